using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.WebSockets;

/// <summary>Python's websockets (Debian python3-websockets) and Node's ws (npm) against the server, once per poller.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
public sealed class ScriptedClientTests(PollerKind poller)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    // Each client: echo text and binary (a large one too), a ping answered, a fragmented message, the server's
    // close code, a 1009 for an oversized message; prints one line per check.
    private const string PythonClient = """
        import asyncio, sys, websockets
        base = sys.argv[1]
        async def main():
            async with websockets.connect(base + "/ws/echo", subprotocols=["chat.v1", "chat.v2"], max_size=None) as ws:
                print("subprotocol", ws.subprotocol)
                print("extensions", [e.name for e in ws.extensions])
                await ws.send("héllo"); print("text", await ws.recv())
                await ws.send(bytes(range(256)) * 1000); data = await ws.recv(); print("binary", len(data), data == bytes(range(256)) * 1000)
                pong = await ws.ping(b"abc"); await asyncio.wait_for(pong, 10); print("pong ok")
                async def parts():
                    for p in ["frag", "men", "ted"]:
                        yield p
                await ws.send(parts()); print("fragmented", await ws.recv())
            print("close", ws.close_code)
            async with websockets.connect(base + "/ws/close") as ws:
                await ws.send("py")
                try:
                    await ws.recv()
                except websockets.ConnectionClosed as e:
                    print("server close", e.rcvd.code, e.rcvd.reason)
            async with websockets.connect(base + "/ws/small") as ws:
                await ws.send(b"x" * 1001)
                try:
                    await ws.recv()
                except websockets.ConnectionClosed as e:
                    print("too big", e.rcvd.code)
        asyncio.run(main())
        """;

    private const string NodeClient = """
        const WebSocket = require('ws');
        const base = process.argv[2];
        function open(path, protocols) {
          return new Promise((resolve, reject) => {
            const ws = new WebSocket(base + path, protocols, { perMessageDeflate: true });
            const queue = [], waiters = [];
            ws.on('message', (data, isBinary) => { const m = { data, isBinary }; waiters.length ? waiters.shift()(m) : queue.push(m); });
            ws.next = () => new Promise(r => queue.length ? r(queue.shift()) : waiters.push(r));
            ws.closed = new Promise(r => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
            ws.on('open', () => resolve(ws));
            ws.on('error', reject);
          });
        }
        (async () => {
          let ws = await open('/ws/echo', ['chat.v1', 'chat.v2']);
          console.log('subprotocol', ws.protocol);
          console.log('extensions', ws.extensions);
          ws.send('héllo'); let m = await ws.next(); console.log('text', m.isBinary ? 'binary?' : m.data.toString());
          const big = Buffer.alloc(256000, 7); ws.send(big); m = await ws.next(); console.log('binary', m.data.length, m.isBinary && m.data.equals(big));
          await new Promise(r => { ws.once('pong', d => { console.log('pong', d.toString()); r(); }); ws.ping('abc'); });
          ws.send('frag', { fin: false }); ws.send('mented', { fin: true }); m = await ws.next(); console.log('fragmented', m.data.toString());
          ws.close(1000, 'bye'); console.log('close', (await ws.closed).code);
          ws = await open('/ws/close'); ws.send('js'); let c = await ws.closed; console.log('server close', c.code, c.reason);
          ws = await open('/ws/small'); ws.send(Buffer.alloc(1001)); c = await ws.closed; console.log('too big', c.code);
        })().catch(e => { console.error(e); process.exit(1); });
        """;

    [Test]
    public void PythonWebsocketsTalksToTheServer()
    {
        ExternalTools.Require("python3-websockets");
        using RunningServer server = WebSocketTestServer.Start(poller);
        string script = Path.Combine(Path.GetTempPath(), $"snow-ws-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, PythonClient);
        try
        {
            var (exit, output, errors) = WebSocketTestServer.Run(WebSocketTestServer.Python, [script, $"ws://127.0.0.1:{server.EndPoint.Port}"], Bound);
            Assert.That(exit, Is.EqualTo(0), errors);
            Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
            {
                "subprotocol chat.v2", "extensions ['permessage-deflate']", "text héllo", "binary 256000 True", "pong ok", "fragmented fragmented", "close 1000",
                "server close 4000 closing: py", "too big 1009",
            }), errors);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Test]
    public void NodeWsTalksToTheServer()
    {
        ExternalTools.Require("npm:ws");
        using RunningServer server = WebSocketTestServer.Start(poller);
        string script = Path.Combine(Path.GetTempPath(), $"snow-ws-{Guid.NewGuid():N}.js");
        File.WriteAllText(script, NodeClient);
        try
        {
            var (exit, output, errors) = WebSocketTestServer.Run("node", [script, $"ws://127.0.0.1:{server.EndPoint.Port}"], Bound,
                new Dictionary<string, string> { ["NODE_PATH"] = ExternalTools.NodeModules });
            Assert.That(exit, Is.EqualTo(0), errors);
            Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
            {
                "subprotocol chat.v2", "extensions permessage-deflate", "text héllo", "binary 256000 true", "pong abc", "fragmented fragmented", "close 1000",
                "server close 4000 closing: js", "too big 1009",
            }), errors);
        }
        finally
        {
            File.Delete(script);
        }
    }
}
