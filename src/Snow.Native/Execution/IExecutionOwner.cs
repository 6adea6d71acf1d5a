namespace Snow.Native.Execution;

/// <summary>The protocol exchange a waiting request belongs to: told, on the loop thread, when its response is ready.</summary>
internal interface IExecutionOwner
{
    /// <summary>
    /// The handler answered. The owner writes <paramref name="response"/> and then gives the execution back with
    /// <see cref="RequestExecution.Release"/>.
    /// </summary>
    void OnResponseReady(RequestExecution execution, HttpResponseBase response);
}
