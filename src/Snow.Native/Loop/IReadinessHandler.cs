using Snow.Native.Polling;

namespace Snow.Native.Loop;

/// <summary>What an <see cref="EventLoop"/> calls when a descriptor registered with it is ready.</summary>
internal interface IReadinessHandler
{
    void OnReady(PollEvents events);
}
