namespace Snow.Native.KestrelBaseline;

/// <summary>
/// Requests parked until someone calls <see cref="ReleaseAll"/>: the Kestrel counterpart of a Snow future.
/// A client that goes away while parked leaves the set at once, so a dead request is never "released".
/// </summary>
internal sealed class ParkedRequests
{
    private readonly Lock _gate = new();
    private HashSet<TaskCompletionSource<bool>> _waiting = [];

    /// <summary>Completes with true when released, false when the client went away first.</summary>
    public async Task<bool> WaitForRelease(CancellationToken requestAborted)
    {
        // Continuations run on the thread pool, so ReleaseAll answers at once instead of running every
        // parked request's response inline.
        var release = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _waiting.Add(release);
        using CancellationTokenRegistration onAbort = requestAborted.UnsafeRegister(
            static (state, _) => ((TaskCompletionSource<bool>)state!).TrySetResult(false), release);
        bool wasReleased = await release.Task;
        if (!wasReleased)
        {
            lock (_gate) _waiting.Remove(release);
        }
        return wasReleased;
    }

    public int ReleaseAll()
    {
        HashSet<TaskCompletionSource<bool>> released;
        lock (_gate)
        {
            released = _waiting;
            _waiting = [];
        }
        int count = 0;
        foreach (TaskCompletionSource<bool> request in released)
        {
            if (request.TrySetResult(true)) count++;
        }
        return count;
    }
}
