using Snow.Native.Polling;
using Snow.Native.PollerContract;

namespace Snow.Native.Tests.Polling;

/// <summary>
/// The IPoller contract against every poller this OS offers; the fixture name carries the poller
/// (PollerContractTests(Epoll), PollerContractTests(Select), ...).
/// </summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class PollerContractTests(PollerKind kind)
{
    [Test] public void ReadableWhenDataArrives() => PollerContractChecks.ReadableWhenDataArrives(kind);
    [Test] public void NotReadableWithoutData() => PollerContractChecks.NotReadableWithoutData(kind);
    [Test] public void LevelTriggeredUntilDrained() => PollerContractChecks.LevelTriggeredUntilDrained(kind);
    [Test] public void WritableAfterConnect() => PollerContractChecks.WritableAfterConnect(kind);
    [Test] public void HangUpWhenPeerCloses() => PollerContractChecks.HangUpWhenPeerCloses(kind);
    [Test] public void InterestChanges() => PollerContractChecks.InterestChanges(kind);
    [Test] public void UnregisterStopsEvents() => PollerContractChecks.UnregisterStopsEvents(kind);
    [Test] public void MisuseIsRefusedClearly() => PollerContractChecks.MisuseIsRefusedClearly(kind);
    [Test] public void TimeoutIsHonouredWithoutBusyWaiting() => PollerContractChecks.TimeoutIsHonouredWithoutBusyWaiting(kind);
    [Test] public void WakeFromAnotherThreadEndsWait() => PollerContractChecks.WakeFromAnotherThreadEndsWait(kind);
    [Test] public void WakeBeforeWaitIsNotLost() => PollerContractChecks.WakeBeforeWaitIsNotLost(kind);

    [Test] public void WakeRacingTheDrainIsNotLost() => PollerContractChecks.WakeRacingTheDrainIsNotLost(kind);
    [Test] public void ManySocketsAtOnce() => PollerContractChecks.ManySocketsAtOnce(kind);

    [Test]
    public void EveryContractCheckHasATest()
    {
        var tests = typeof(PollerContractTests).GetMethods().Select(m => m.Name).ToHashSet();
        foreach ((string name, _) in PollerContractChecks.All)
        {
            Assert.That(tests, Does.Contain(name), $"contract check {name} is not run by the NUnit suite");
        }
    }
}

/// <summary>The pollers the test run covers: all the OS offers.</summary>
public static class AvailablePollers
{
    public static IEnumerable<PollerKind> Kinds => PollerFactory.Available;
}
