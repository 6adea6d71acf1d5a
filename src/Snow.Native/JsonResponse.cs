using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Snow.Native;

/// <summary>
/// A response whose content is a value serialized as JSON when the server sends it: straight into the
/// connection's output buffer, with no intermediate string or array, so a JSON answer costs no allocation beyond
/// the value and this object. Serialization uses a <see cref="JsonTypeInfo{T}"/> from a source-generated
/// <see cref="System.Text.Json.Serialization.JsonSerializerContext"/> (trimming- and Native-AOT-safe, no
/// reflection). Like an <see cref="HttpResponse"/>, one instance may answer many requests: it is serialized anew
/// for each (the value is read then, so it should not change while a response is being sent).
/// </summary>
public abstract class JsonResponse : HttpResponseBase
{
    /// <summary>The content type used when none is given.</summary>
    public const string DefaultContentType = "application/json; charset=utf-8";

    private protected JsonResponse(int statusCode, string? contentType)
        : base(statusCode, contentType ?? DefaultContentType)
    {
    }

    /// <summary>Writes the value (the server calls it while writing the response).</summary>
    internal abstract void WriteValue(Utf8JsonWriter writer);

    /// <summary>The serializer options of the value's type information (the writer's indentation and encoder follow them).</summary>
    internal abstract JsonSerializerOptions Options { get; }
}

/// <summary>A <see cref="JsonResponse"/> of a <typeparamref name="T"/>: <c>new JsonResponse&lt;Todo&gt;(todo, AppJson.Default.Todo)</c>.</summary>
public sealed class JsonResponse<T> : JsonResponse
{
    /// <summary>A response of <paramref name="value"/>, serialized with <paramref name="typeInfo"/> (from a source-generated context) when sent.</summary>
    /// <param name="value">The value sent.</param>
    /// <param name="typeInfo">How it is serialized: <c>MyJsonContext.Default.MyType</c>.</param>
    /// <param name="statusCode">The status code, 100 to 599.</param>
    /// <param name="contentType">The Content-Type; <see cref="JsonResponse.DefaultContentType"/> when null.</param>
    public JsonResponse(T value, JsonTypeInfo<T> typeInfo, int statusCode = 200, string? contentType = null)
        : base(statusCode, contentType)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        Value = value;
        TypeInfo = typeInfo;
    }

    /// <summary>The value sent.</summary>
    public T Value { get; }

    /// <summary>How the value is serialized.</summary>
    public JsonTypeInfo<T> TypeInfo { get; }

    internal override void WriteValue(Utf8JsonWriter writer) => JsonSerializer.Serialize(writer, Value, TypeInfo);

    internal override JsonSerializerOptions Options => TypeInfo.Options;
}
