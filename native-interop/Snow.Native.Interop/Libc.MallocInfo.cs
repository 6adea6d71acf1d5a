using System.Runtime.InteropServices;
using System.Xml.Linq;

namespace Snow.Native.Interop;

/// <summary>glibc's malloc_info, for tests that measure what native code (OpenSSL) keeps per connection.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "open_memstream")]
    private static partial nint OpenMemoryStream(byte** buffer, nuint* length);

    [LibraryImport(Libraries.Libc, EntryPoint = "malloc_info")]
    private static partial int MallocInfo(int options, nint stream);

    [LibraryImport(Libraries.Libc, EntryPoint = "fclose")]
    private static partial int CloseStream(nint stream);

    [LibraryImport(Libraries.Libc, EntryPoint = "free")]
    private static partial void Free(void* memory);

    /// <summary>
    /// Bytes malloc has handed out and not had back, over every arena (malloc_info's totals: what the arenas hold
    /// minus their free chunks, plus mmapped blocks); null where malloc_info does not exist (not glibc).
    /// </summary>
    public static long? NativeHeapInUse()
    {
        if (!Platform.IsLinux) return null;
        byte* text = null;
        nuint length = 0;
        nint stream;
        try
        {
            stream = OpenMemoryStream(&text, &length);
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
        if (stream == 0) return null;
        int result;
        try
        {
            result = MallocInfo(0, stream);
        }
        catch (EntryPointNotFoundException)
        {
            result = -1; // musl: no malloc_info
        }
        CloseStream(stream);
        string xml = Marshal.PtrToStringUTF8((nint)text, (int)length);
        Free(text);
        if (result != 0) return null;
        XElement totals = XDocument.Parse(xml).Root!;
        long Size(string element, string type) => totals.Elements(element)
            .Where(e => (string?)e.Attribute("type") == type).Sum(e => (long?)e.Attribute("size") ?? 0);
        return Size("system", "current") - Size("total", "fast") - Size("total", "rest") + Size("total", "mmap");
    }
}
