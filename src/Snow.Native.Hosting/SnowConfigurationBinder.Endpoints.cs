using System.Security.Authentication;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace Snow.Native;

/// <summary>
/// The "Endpoints" part of the section: a list ("Endpoints:0:Port") or named entries ("Endpoints:Https:Port"), each
/// with Host, Port and, for HTTPS, an Https section: Certificate {Path, KeyPath, Password} (PEM with a key file, or a
/// PFX with its password), ServerCertificates {host name: {Path, KeyPath, Password}} for SNI, ClientCertificateMode
/// (NoCertificate, AllowCertificate, RequireCertificate), EnabledProtocols ("Tls12, Tls13"), HandshakeTimeout,
/// CertificateReloadInterval and Engine (Auto, OpenSsl, SslStream). Certificate files are read while binding, so a missing or bad file is reported with
/// its configuration path. Code-only settings (a certificate selector or validation callback) stay code.
/// </summary>
internal static partial class SnowConfigurationBinder
{
    private static readonly string[] KnownEndpoint = ["Host", "Port", "Https"];

    private static readonly string[] KnownHttps =
        ["Certificate", "ServerCertificates", "ClientCertificateMode", "EnabledProtocols", "HandshakeTimeout", "CertificateReloadInterval", "Engine"];

    private static readonly string[] KnownCertificate = ["Path", "KeyPath", "Password"];

    private static void BindEndpoints(IConfigurationSection section, IList<SnowEndpoint> endpoints, List<string> errors)
    {
        if (section.Value is not null) throw Bad(section, $"'{section.Value}' is not a list: set Endpoints:0:Host, Endpoints:0:Port, ...");
        IConfigurationSection[] entries = section.GetChildren().ToArray();
        if (entries.Length == 0) return;
        endpoints.Clear(); // the configuration's list replaces the one code set
        foreach (IConfigurationSection entry in entries)
        {
            var endpoint = new SnowEndpoint();
            Try(errors, entry, () =>
            {
                if (entry.Value is not null) throw Bad(entry, $"'{entry.Value}' is not an endpoint: set {entry.Key}:Host and {entry.Key}:Port");
                foreach (IConfigurationSection part in entry.GetChildren())
                {
                    Try(errors, part, () =>
                    {
                        switch (part.Key.ToLowerInvariant())
                        {
                            case "host": endpoint.Host = Text(part); break;
                            case "port": endpoint.Port = Int(part, 0, 65535); break;
                            case "https": endpoint.Https = Https(part, errors); break;
                            default: throw Unknown(part, KnownEndpoint);
                        }
                    });
                }
            });
            endpoints.Add(endpoint);
        }
    }

    private static HttpsOptions Https(IConfigurationSection section, List<string> errors)
    {
        if (section.Value is not null) throw Bad(section, $"'{section.Value}' is not a section: set {section.Key}:Certificate:Path (and KeyPath or Password)");
        var https = new HttpsOptions();
        foreach (IConfigurationSection part in section.GetChildren())
        {
            Try(errors, part, () =>
            {
                switch (part.Key.ToLowerInvariant())
                {
                    case "certificate": https.Certificate = Certificate(part); break;
                    case "servercertificates":
                        foreach (IConfigurationSection host in part.GetChildren())
                        {
                            Try(errors, host, () => https.ServerCertificates[host.Key] = Certificate(host));
                        }
                        break;
                    case "clientcertificatemode": https.ClientCertificateMode = ClientMode(part); break;
                    case "enabledprotocols": https.EnabledProtocols = Protocols(part); break;
                    case "handshaketimeout": https.HandshakeTimeout = Duration(part, allowZero: false); break;
                    case "engine": https.Engine = Engine(part); break;
                    case "certificatereloadinterval":
                        https.CertificateReloadInterval = Text(part).Trim().ToLowerInvariant() is "never" or "infinite"
                            ? Timeout.InfiniteTimeSpan
                            : Duration(part, allowZero: true);
                        break;
                    default: throw Unknown(part, KnownHttps);
                }
            });
        }
        return https;
    }

    private static TlsCertificate Certificate(IConfigurationSection section)
    {
        if (section.Value is not null) throw Bad(section, $"'{section.Value}' is not a section: set {section.Key}:Path (and KeyPath or Password)");
        string? path = null, keyPath = null, password = null;
        foreach (IConfigurationSection part in section.GetChildren())
        {
            switch (part.Key.ToLowerInvariant())
            {
                case "path": path = Text(part); break;
                case "keypath": keyPath = Text(part); break;
                case "password": password = part.Value; break;
                default: throw Unknown(part, KnownCertificate);
            }
        }
        if (string.IsNullOrWhiteSpace(path)) throw Bad(section, "needs Path: the certificate file (PEM or PFX)");
        try
        {
            return TlsCertificate.FromFiles(path, keyPath, password);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // The message is the password-free reason; the password never appears in an error.
            throw Bad(section, $"could not load '{path}': {e.Message.Split('\n')[0].Trim().TrimEnd('.')}");
        }
    }

    private static ClientCertificateMode ClientMode(IConfigurationSection setting) => Text(setting).Trim().ToLowerInvariant() switch
    {
        "nocertificate" => ClientCertificateMode.NoCertificate,
        "allowcertificate" => ClientCertificateMode.AllowCertificate,
        "requirecertificate" => ClientCertificateMode.RequireCertificate,
        _ => throw Bad(setting, $"'{setting.Value}' is not NoCertificate, AllowCertificate or RequireCertificate"),
    };

    private static TlsEngine Engine(IConfigurationSection setting) => Text(setting).Trim().ToLowerInvariant() switch
    {
        "auto" => TlsEngine.Auto,
        "openssl" => TlsEngine.OpenSsl,
        "sslstream" => TlsEngine.SslStream,
        _ => throw Bad(setting, $"'{setting.Value}' is not Auto, OpenSsl or SslStream"),
    };

    private static SslProtocols Protocols(IConfigurationSection setting)
    {
        SslProtocols protocols = SslProtocols.None;
        foreach (string name in Text(setting).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            protocols |= name.ToLowerInvariant() switch
            {
                "tls12" or "tls1.2" => SslProtocols.Tls12,
                "tls13" or "tls1.3" => SslProtocols.Tls13,
                "none" or "default" => SslProtocols.None,
                _ => throw Bad(setting, $"'{name}' is not a TLS version offered: Tls12, Tls13 (or None for the system's choice)"),
            };
        }
        return protocols;
    }
}
