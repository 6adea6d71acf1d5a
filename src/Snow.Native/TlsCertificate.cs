using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Snow.Native;

/// <summary>
/// A server certificate with its private key: from PEM files (certificate, or full chain, and key: what certbot
/// writes), from a PFX/PKCS#12 file with its password, or an <see cref="X509Certificate2"/> in hand. Certificates
/// from files are read again when the files change (see <see cref="HttpsOptions.CertificateReloadInterval"/>).
/// </summary>
public sealed class TlsCertificate
{
    private TlsCertificate(X509Certificate2? certificate, string? path, string? keyPath, string? password)
    {
        InMemory = certificate;
        Path = path;
        KeyPath = keyPath;
        Password = password;
    }

    /// <summary>A certificate in hand; it must have its private key.</summary>
    public TlsCertificate(X509Certificate2 certificate)
        : this(certificate ?? throw new ArgumentNullException(nameof(certificate)), null, null, null)
    {
        if (!certificate.HasPrivateKey) throw new ArgumentException($"Certificate {certificate.Subject} has no private key.", nameof(certificate));
    }

    /// <summary>
    /// A certificate from files: a PEM certificate (the first one in the file is the server's; the others are its
    /// chain) with a PEM key file (<paramref name="keyPath"/>, encrypted when <paramref name="password"/> is given),
    /// or a PFX/PKCS#12 file (.pfx, .p12) with its <paramref name="password"/> and no key file. The files are read
    /// now, so a mistake shows at once.
    /// </summary>
    public static TlsCertificate FromFiles(string path, string? keyPath = null, string? password = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var certificate = new TlsCertificate(null, System.IO.Path.GetFullPath(path), keyPath is null ? null : System.IO.Path.GetFullPath(keyPath), password);
        _ = certificate.Load(); // fail early, with the file's name
        return certificate;
    }

    internal X509Certificate2? InMemory { get; }

    /// <summary>The certificate file, when loaded from files.</summary>
    public string? Path { get; }

    /// <summary>The PEM key file, when one was given.</summary>
    public string? KeyPath { get; }

    internal string? Password { get; }

    /// <summary>When the files last changed (the later of the two), to notice a renewal.</summary>
    internal DateTime FilesWritten()
    {
        if (Path is null) return default;
        DateTime written = File.GetLastWriteTimeUtc(Path);
        if (KeyPath is not null)
        {
            DateTime key = File.GetLastWriteTimeUtc(KeyPath);
            if (key > written) written = key;
        }
        return written;
    }

    /// <summary>Reads the certificate, its key and its chain (the files, or the certificate in hand).</summary>
    internal (X509Certificate2 Certificate, X509Certificate2Collection Chain) Load()
    {
        if (InMemory is not null) return (InMemory, []);
        string path = Path!;
        try
        {
            if (KeyPath is null && LooksLikePkcs12(path))
            {
                X509Certificate2Collection all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, Password, X509KeyStorageFlags.EphemeralKeySet);
                X509Certificate2 leaf = all.FirstOrDefault(c => c.HasPrivateKey)
                    ?? throw new ArgumentException($"{path} holds no certificate with a private key.");
                var chain = new X509Certificate2Collection();
                foreach (X509Certificate2 other in all)
                {
                    if (!ReferenceEquals(other, leaf)) chain.Add(other);
                }
                return (leaf, chain);
            }
            if (KeyPath is null)
            {
                throw new ArgumentException($"{path} is a PEM certificate: its key file is needed too (KeyPath), or give a .pfx/.p12 file.");
            }
            X509Certificate2 certificate = Password is null
                ? X509Certificate2.CreateFromPemFile(path, KeyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, Password, KeyPath);
            var pemChain = new X509Certificate2Collection();
            pemChain.ImportFromPemFile(path);
            var intermediates = new X509Certificate2Collection();
            foreach (X509Certificate2 other in pemChain)
            {
                if (other.Thumbprint != certificate.Thumbprint) intermediates.Add(other);
            }
            return (certificate, intermediates);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"Could not load the certificate from {path}{(KeyPath is null ? "" : $" and {KeyPath}")}: {e.Message}", e);
        }
    }

    private static bool LooksLikePkcs12(string path)
    {
        string extension = System.IO.Path.GetExtension(path);
        if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase)) return true;
        // A PKCS#12 file is DER: it starts with a SEQUENCE tag; a PEM file starts with text.
        using FileStream file = File.OpenRead(path);
        return file.ReadByte() == 0x30;
    }

    /// <summary>The certificate's file path, or the subject of one given in memory, for logs.</summary>
    public override string ToString() => Path ?? InMemory!.Subject;
}
