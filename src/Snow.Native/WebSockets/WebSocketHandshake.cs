using System.Security.Cryptography;
using System.Text;

namespace Snow.Native.WebSockets;

/// <summary>
/// The server's opening handshake (RFC 6455 section 4.2): checks the client's request and makes the
/// Sec-WebSocket-Accept value. A request of another version gets 426 with the version spoken here; a missing
/// token or a bad key gets 400.
/// </summary>
internal static class WebSocketHandshake
{
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Whether the request asks for a WebSocket at all (Upgrade: websocket), valid or not.</summary>
    public static bool IsUpgradeRequest(HttpRequest request) => HasToken(request.Headers.GetValues("Upgrade"), "websocket");

    /// <summary>Null when the request is a valid opening handshake; otherwise the answer to give instead.</summary>
    public static HttpResponse? Check(HttpRequest request, out string key)
    {
        key = "";
        if (request.Method != "GET" || request.Protocol != "HTTP/1.1")
        {
            return Reject(400, "Bad Request: a WebSocket handshake is an HTTP/1.1 GET");
        }
        RequestHeaders headers = request.Headers;
        if (!HasToken(headers.GetValues("Upgrade"), "websocket"))
        {
            return Reject(400, "Bad Request: the Upgrade header lacks the websocket token");
        }
        if (!HasToken(headers.GetValues("Connection"), "upgrade"))
        {
            return Reject(400, "Bad Request: the Connection header lacks the upgrade token");
        }
        IReadOnlyList<string> versions = headers.GetValues("Sec-WebSocket-Version");
        if (versions.Count != 1 || versions[0].Trim() != "13")
        {
            HttpResponse wrongVersion = Reject(426, "Upgrade Required: this server speaks WebSocket version 13");
            wrongVersion.Headers.Add("Sec-WebSocket-Version", "13");
            return wrongVersion;
        }
        IReadOnlyList<string> keys = headers.GetValues("Sec-WebSocket-Key");
        if (keys.Count != 1 || !IsValidKey(keys[0].Trim()))
        {
            return Reject(400, "Bad Request: Sec-WebSocket-Key must be 16 bytes in base64");
        }
        key = keys[0].Trim();
        return null;
    }

    /// <summary>The server's first preference among the subprotocols the client offers, or null.</summary>
    public static string? ChooseSubProtocol(HttpRequest request, string[] supported)
    {
        if (supported.Length == 0) return null;
        IReadOnlyList<string> offered = request.Headers.GetValues("Sec-WebSocket-Protocol");
        if (offered.Count == 0) return null;
        foreach (string candidate in supported)
        {
            foreach (string line in offered)
            {
                foreach (string token in line.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    if (token == candidate) return candidate; // subprotocol names are case-sensitive
                }
            }
        }
        return null;
    }

    /// <summary>base64(SHA-1(key + the RFC's GUID)).</summary>
    public static string AcceptValue(string key)
    {
        Span<byte> input = stackalloc byte[key.Length + KeyGuid.Length];
        int length = Encoding.ASCII.GetBytes(key, input);
        length += Encoding.ASCII.GetBytes(KeyGuid, input[length..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..length], hash);
        return Convert.ToBase64String(hash);
    }

    private static bool IsValidKey(string key)
    {
        if (key.Length != 24) return false;
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out int written) && written == 16;
    }

    /// <summary>Whether a comma-separated header holds <paramref name="token"/> (case-insensitive).</summary>
    private static bool HasToken(IReadOnlyList<string> values, string token)
    {
        foreach (string value in values)
        {
            foreach (string part in value.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.Equals(token, StringComparison.OrdinalIgnoreCase)) return true;
            }
        }
        return false;
    }

    private static HttpResponse Reject(int status, string text)
    {
        var response = new HttpResponse(text + "\n", status, "text/plain; charset=utf-8");
        response.Headers.Add("Connection", "close");
        return response;
    }
}
