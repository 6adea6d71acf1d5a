namespace Snow.Native.Loop;

/// <summary>
/// Makes <c>await</c> inside a handler resume on the handler's own loop thread: continuations are posted to the
/// loop, which wakes to run them.
/// </summary>
internal sealed class EventLoopSynchronizationContext(EventLoop loop) : SynchronizationContext
{
    public EventLoop Loop { get; } = loop;

    public override void Post(SendOrPostCallback d, object? state) => Loop.PostCallback(d, state);

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Loop.IsOnLoopThread)
        {
            d(state);
            return;
        }
        using var done = new ManualResetEventSlim();
        Exception? failure = null;
        Loop.Post((Action<object?>)(_ =>
        {
            try
            {
                d(state);
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                done.Set();
            }
        }), null);
        done.Wait();
        if (failure is not null) throw new InvalidOperationException("The callback sent to the event loop failed.", failure);
    }

    public override SynchronizationContext CreateCopy() => this;
}
