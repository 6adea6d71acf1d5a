using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Snow.Native;

// Request bodies read as JSON: deserialized from the bytes where they are (the connection's read buffer for a
// buffered body, no copy), with a source-generated JsonTypeInfo (trimming- and Native-AOT-safe).
public sealed partial class HttpRequest
{
    /// <summary>
    /// The buffered body deserialized as JSON with <paramref name="typeInfo"/>, read in place (no copy of the body).
    /// Malformed JSON throws a <see cref="JsonException"/> (unhandled, the request gets a 500: catch it to answer 400).
    /// Not for a route that streams its body: use <see cref="ReadJsonAsync{T}"/> there.
    /// </summary>
    public T? ReadJson<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return JsonSerializer.Deserialize(BodySpan, typeInfo);
    }

    /// <summary>
    /// The body deserialized as JSON: a streamed body (<see cref="Route.StreamBody"/>) is read as it arrives,
    /// with back-pressure; a buffered one is read in place, at once, as <see cref="ReadJson{T}"/> does.
    /// </summary>
    public ValueTask<T?> ReadJsonAsync<T>(JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (IsBodyStreamed) return JsonSerializer.DeserializeAsync(BodyStream, typeInfo, cancellationToken);
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<T?>(cancellationToken);
        return new ValueTask<T?>(ReadJson(typeInfo));
    }
}
