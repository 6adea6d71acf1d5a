namespace Snow.Native.PollerContract;

/// <summary>A broken promise of the poller contract.</summary>
public sealed class ContractFailure(string message) : Exception(message);

internal static class Check
{
    public static void That(bool condition, string message)
    {
        if (!condition) throw new ContractFailure(message);
    }

    public static T Throws<T>(Action action, string what) where T : Exception
    {
        try
        {
            action();
        }
        catch (T expected)
        {
            return expected;
        }
        catch (Exception other)
        {
            throw new ContractFailure($"{what}: expected {typeof(T).Name}, got {other.GetType().Name}: {other.Message}");
        }
        throw new ContractFailure($"{what}: expected {typeof(T).Name}, nothing was thrown");
    }
}
