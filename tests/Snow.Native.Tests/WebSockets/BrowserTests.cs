using System.Diagnostics;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.WebSockets;

/// <summary>
/// A real browser: headless Chromium opens a page the test server serves; the page uses WebSocket (an echo of text
/// and binary, a close code) and EventSource (multi-line data, named events, a reconnect that sends Last-Event-ID)
/// and posts what it saw back to the server, where the test reads it. Once per poller; Chromium is bounded by a
/// timeout and killed afterwards.
/// </summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class BrowserTests(PollerKind poller)
{
    private const string Page = """
        <!doctype html><meta charset="utf-8"><title>snow</title>
        <script>
        const seen = [];
        const report = () => fetch('/report', { method: 'POST', body: seen.join('\n') });
        const ws = new WebSocket(`ws://${location.host}/ws/echo`);
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => { ws.send('héllo ✓'); ws.send(new Uint8Array([1, 2, 250])); };
        ws.onmessage = e => {
          if (typeof e.data === 'string') { seen.push('ws text ' + e.data); }
          else { seen.push('ws binary ' + Array.from(new Uint8Array(e.data)).join(',')); ws.close(4321, 'done'); }
        };
        ws.onclose = e => { seen.push('ws closed ' + e.code + ' ' + e.wasClean); events(); };
        function events() {
          const source = new EventSource('/events');
          source.onmessage = e => seen.push('sse message ' + JSON.stringify(e.data) + ' id ' + e.lastEventId);
          source.addEventListener('named', e => seen.push('sse named ' + e.data));
          source.addEventListener('resumed', e => { seen.push('sse resumed ' + e.data); source.close(); report(); });
        }
        </script>
        """;

    [Test]
    public void ChromiumUsesWebSocketAndEventSource()
    {
        ExternalTools.Require("chromium");
        var reported = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using RunningServer server = WebSocketTestServer.Start(poller,
            ("^/page$", _ => new HttpResponse(Page)),
            new Route("^/report$", r =>
            {
                reported.TrySetResult(r.BodyText);
                return new HttpResponse("ok");
            }, "POST"),
            ("^/events$", r =>
            {
                var events = new Snow.Native.ServerSentEvents(r, TimeSpan.Zero);
                if (events.LastEventId is { } last)
                {
                    events.Send("after " + last, eventName: "resumed");
                    return events.Response; // stays open; the page closes it
                }
                events.Send("first line\nsecond line", id: "1", retry: TimeSpan.FromMilliseconds(100));
                events.Send("x", eventName: "named", id: "2");
                events.Complete(); // the browser reconnects with Last-Event-ID: 2
                return events.Response;
            }));
        string profile = Directory.CreateTempSubdirectory("snow-chromium-").FullName;
        var start = new ProcessStartInfo("chromium")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", server.Url("/page").ToString(),
        })
        {
            start.ArgumentList.Add(argument);
        }
        using Process browser = Process.Start(start) ?? throw new InvalidOperationException("could not start chromium");
        browser.OutputDataReceived += (_, _) => { };
        browser.ErrorDataReceived += (_, _) => { };
        browser.BeginOutputReadLine();
        browser.BeginErrorReadLine();
        try
        {
            Assert.That(reported.Task.Wait(TimeSpan.FromSeconds(60)), Is.True, "the page reported within 60 s");
            Assert.That(reported.Task.Result.Split('\n'), Is.EqualTo(new[]
            {
                "ws text héllo ✓",
                "ws binary 1,2,250",
                "ws closed 4321 true",
                "sse message \"first line\\nsecond line\" id 1",
                "sse named x",
                "sse resumed after 2",
            }));
        }
        finally
        {
            if (!browser.HasExited) browser.Kill(entireProcessTree: true);
            browser.WaitForExit(10_000);
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
                // a child still writing its profile: the temp directory is cleaned up by the system
            }
        }
    }
}
