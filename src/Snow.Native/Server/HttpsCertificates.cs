using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Snow.Native.Transport.Tls;

namespace Snow.Native.Server;

/// <summary>
/// An HTTPS endpoint's certificates: the engine options for each (built once: the certificate context with its
/// chain, ALPN, client-certificate rules), the choice by SNI for each handshake, and the reload of certificate
/// files that changed on disk (a renewal), checked at a handshake at most once per reload interval. A file that
/// fails to load keeps the certificate in use and logs a warning. Thread-safe: every loop handshakes through it.
/// </summary>
internal sealed class HttpsCertificates : IOpenSslCredentials
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private static readonly byte[] ClearTextReply = Encoding.ASCII.GetBytes(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 50\r\n\r\n" +
        "This port speaks HTTPS: a plain HTTP request came.\n");

    private readonly HttpsOptions _options;
    private readonly ILogger _logger;
    private readonly Entry? _default;
    private readonly Dictionary<string, Entry> _byHost = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Entry> _byWildcard = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Credentials> _selected = new(StringComparer.Ordinal);
    private readonly TlsEngine _engine;

    public HttpsCertificates(HttpsOptions options, ILogger logger, string endpoint)
    {
        options.Validate(endpoint);
        _options = options;
        _logger = logger;
        _engine = options.ResolvedEngine;
        if (options.Certificate is not null) _default = new Entry(this, options.Certificate);
        foreach ((string host, TlsCertificate certificate) in options.ServerCertificates)
        {
            var entry = new Entry(this, certificate);
            if (host.StartsWith("*.", StringComparison.Ordinal)) _byWildcard[host[2..]] = entry;
            else _byHost[host] = entry;
        }
        OpenSslEndpoint? openSsl = _engine == TlsEngine.OpenSsl
            ? new OpenSslEndpoint(OpenSslContext.Create(options.EnabledProtocols, options.ClientCertificateMode, null, null), this)
            : null;
        Settings = new TlsServerSettings(Select, this, (long)options.HandshakeTimeout.TotalMilliseconds, ClearTextReply, openSsl);
    }

    /// <summary>What one certificate became for the endpoint's engine.</summary>
    private sealed record Credentials(SslServerAuthenticationOptions? SslStream, OpenSslContext? OpenSsl);

    public TlsServerSettings Settings { get; }

    private static ValueTask<SslServerAuthenticationOptions> Select(SslStream stream, SslClientHelloInfo hello, object? state, CancellationToken cancellationToken)
    {
        var certificates = (HttpsCertificates)state!;
        return new ValueTask<SslServerAuthenticationOptions>(certificates.For(hello.ServerName).SslStream!);
    }

    OpenSslContext IOpenSslCredentials.For(string? hostName) => For(hostName).OpenSsl!;

    /// <summary>What serves a handshake that asked for <paramref name="hostName"/>.</summary>
    private Credentials For(string? hostName)
    {
        string? name = string.IsNullOrEmpty(hostName) ? null : hostName;
        if (_options.ServerCertificateSelector is { } selector && selector(name) is { } chosen) return ForSelected(chosen);
        if (name is not null)
        {
            if (_byHost.TryGetValue(name, out Entry? exact)) return exact.Current();
            int dot = name.IndexOf('.');
            if (dot > 0 && _byWildcard.TryGetValue(name[(dot + 1)..], out Entry? wildcard)) return wildcard.Current();
        }
        return _default?.Current() ?? throw new System.Security.Authentication.AuthenticationException(
            $"No certificate for host name '{name ?? "(none)"}'.");
    }

    private Credentials ForSelected(X509Certificate2 certificate)
    {
        lock (_selected)
        {
            if (!_selected.TryGetValue(certificate.Thumbprint, out Credentials? options))
            {
                options = Build(certificate, []);
                _selected[certificate.Thumbprint] = options;
            }
            return options;
        }
    }

    private Credentials Build(X509Certificate2 certificate, X509Certificate2Collection chain)
    {
        ClientCertificateMode mode = _options.ClientCertificateMode;
        if (_engine == TlsEngine.OpenSsl) return new Credentials(null, OpenSslContext.Create(_options.EnabledProtocols, mode, certificate, chain));
        return new Credentials(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(certificate, chain, offline: true),
            ApplicationProtocols = TlsApplicationProtocols.Offered,
            EnabledSslProtocols = _options.EnabledProtocols,
            ClientCertificateRequired = mode != ClientCertificateMode.NoCertificate,
            RemoteCertificateValidationCallback = mode == ClientCertificateMode.NoCertificate ? null : ValidateClientCertificate,
            CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
        }, null);
    }

    /// <summary>The OpenSSL engine's client-certificate check: the chain built as SslStream builds it for a server
    /// (client authentication usage, no revocation check), then the same decision.</summary>
    public bool AcceptClientCertificate(X509Certificate2 certificate, X509Certificate2Collection presentedChain)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        chain.ChainPolicy.ExtraStore.AddRange(presentedChain);
        SslPolicyErrors errors = chain.Build(certificate) ? SslPolicyErrors.None : SslPolicyErrors.RemoteCertificateChainErrors;
        return ValidateClientCertificate(this, certificate, chain, errors);
    }

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null) return _options.ClientCertificateMode == ClientCertificateMode.AllowCertificate;
        var certificate2 = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (_options.ClientCertificateValidation is { } validate) return validate(certificate2, chain, errors);
        return errors == SslPolicyErrors.None;
    }

    /// <summary>One certificate source and the options built from it, rebuilt when its files change.</summary>
    private sealed class Entry
    {
        private readonly HttpsCertificates _owner;
        private readonly TlsCertificate _source;
        private readonly long _intervalTicks;
        private volatile Credentials _current;
        private DateTime _written;
        private long _checkedAt;

        public Entry(HttpsCertificates owner, TlsCertificate source)
        {
            _owner = owner;
            _source = source;
            TimeSpan interval = owner._options.CertificateReloadInterval;
            _intervalTicks = source.Path is null || interval == Timeout.InfiniteTimeSpan ? -1 : (long)(interval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            _written = source.FilesWritten();
            (X509Certificate2 certificate, X509Certificate2Collection chain) = source.Load();
            _current = owner.Build(certificate, chain);
            _checkedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        public Credentials Current()
        {
            if (_intervalTicks >= 0)
            {
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (now - Volatile.Read(ref _checkedAt) >= _intervalTicks) CheckFiles(now);
            }
            return _current;
        }

        private void CheckFiles(long now)
        {
            lock (this)
            {
                if (now - _checkedAt < _intervalTicks) return; // another loop just did
                _checkedAt = now;
                try
                {
                    DateTime written = _source.FilesWritten();
                    if (written == _written) return;
                    (X509Certificate2 certificate, X509Certificate2Collection chain) = _source.Load();
                    _current = _owner.Build(certificate, chain);
                    _written = written;
                    TlsLog.CertificateReloaded(_owner._logger, _source.Path, certificate.Subject, certificate.NotAfter.ToUniversalTime());
                }
                catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
                {
                    TlsLog.CertificateReloadFailed(_owner._logger, _source.Path, e.Message);
                }
            }
        }
    }
}
