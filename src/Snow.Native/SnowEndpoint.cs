using System.Net;

namespace Snow.Native;

/// <summary>
/// One address the server listens on, plain HTTP or HTTPS (with <see cref="Https"/>). An app may listen on several:
/// <c>app.Start(new SnowEndpoint("0.0.0.0", 8080), new SnowEndpoint("0.0.0.0", 8443) { Https = https })</c>.
/// </summary>
public sealed class SnowEndpoint
{
    /// <summary>Plain HTTP on 127.0.0.1:8012; set the properties to change it.</summary>
    public SnowEndpoint()
    {
    }

    /// <summary>Listens on <paramref name="host"/>:<paramref name="port"/>, with HTTPS when <paramref name="https"/> is given.</summary>
    public SnowEndpoint(string host, int port, HttpsOptions? https = null)
    {
        Host = host;
        Port = port;
        Https = https;
    }

    /// <summary>An IP address, a host name, "localhost", or "*"/"0.0.0.0" for every IPv4 address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 takes a free one (see <see cref="SnowApp.Endpoints"/> for the one bound).</summary>
    public int Port { get; set; } = 8012;

    /// <summary>Serve HTTPS here with these settings; null for plain HTTP.</summary>
    public HttpsOptions? Https { get; set; }

    /// <summary>"https://0.0.0.0:8443": the scheme, host and port, for logs.</summary>
    public override string ToString() => $"{(Https is null ? "http" : "https")}://{Host}:{Port}";
}

/// <summary>An endpoint the server is listening on: the address bound (with the real port) and its URL.</summary>
public sealed record ListeningEndpoint(IPEndPoint EndPoint, bool IsHttps)
{
    /// <summary>"https://127.0.0.1:8443/".</summary>
    public string Url => $"{(IsHttps ? "https" : "http")}://{Server.ListenSocket.Format(EndPoint)}/";
}
