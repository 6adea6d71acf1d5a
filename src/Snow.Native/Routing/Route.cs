using System.Text.RegularExpressions;

namespace Snow.Native;

/// <summary>The shapes a handler can have.</summary>
public enum HandlerKind
{
    /// <summary><c>HttpResponse Handle(HttpRequest)</c> (or any <see cref="HttpResponseBase"/>): answers at once.</summary>
    Plain,
    /// <summary><c>IEnumerable&lt;Step&gt; Handle(HttpRequest)</c>: yields futures to park on, as the original Snow's generators did.</summary>
    Iterator,
    /// <summary><c>async ValueTask&lt;HttpResponse&gt; Handle(HttpRequest)</c>.</summary>
    AsyncValueTask,
    /// <summary><c>async Task&lt;HttpResponse&gt; Handle(HttpRequest)</c>.</summary>
    AsyncTask,
}

/// <summary>
/// A pattern and its handler. The pattern is a .NET regular expression matched at the start of the decoded path,
/// like Python's <c>re.match</c> in the original Snow ("$" anchors the end); named groups become route values.
/// Patterns run on the non-backtracking engine, so no path can make matching slow; a pattern that needs
/// backtracking (backreferences, lookarounds) falls back to the backtracking engine with a match timeout.
/// </summary>
public sealed class Route
{
    /// <summary>How long a backtracking pattern may run on one path before it counts as no match.</summary>
    public static readonly TimeSpan BacktrackingMatchTimeout = TimeSpan.FromMilliseconds(100);

    private Route(string pattern, HandlerKind kind, Delegate handler, IEnumerable<string>? methods, bool answersHttpResponse = false)
    {
        AnswersHttpResponse = answersHttpResponse;
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        Pattern = pattern;
        Kind = kind;
        Handler = handler;
        Regex = Compile(pattern);
        GroupNames = Regex.GetGroupNames().Where(name => !int.TryParse(name, out _)).ToArray();
        Methods = methods?.Select(m => m.ToUpperInvariant()).Distinct().ToArray();
        if (Methods is { Count: 0 }) Methods = null;
    }

    /// <summary>A route to a plain handler: it answers at once. <paramref name="methods"/> limits the methods (none: any).</summary>
    public Route(string pattern, Func<HttpRequest, HttpResponseBase> handler, params string[] methods)
        : this(pattern, HandlerKind.Plain, handler, methods)
    {
    }

    /// <summary>A route to an iterator handler, which may yield futures to park on. <paramref name="methods"/> limits the methods (none: any).</summary>
    public Route(string pattern, Func<HttpRequest, IEnumerable<Step>> handler, params string[] methods)
        : this(pattern, HandlerKind.Iterator, handler, methods)
    {
    }

    /// <summary>A route to an async handler. <paramref name="methods"/> limits the methods (none: any).</summary>
    public Route(string pattern, Func<HttpRequest, ValueTask<HttpResponseBase>> handler, params string[] methods)
        : this(pattern, HandlerKind.AsyncValueTask, handler, methods)
    {
    }

    /// <summary>A route to an async handler. <paramref name="methods"/> limits the methods (none: any).</summary>
    public Route(string pattern, Func<HttpRequest, Task<HttpResponseBase>> handler, params string[] methods)
        : this(pattern, HandlerKind.AsyncTask, handler, methods)
    {
    }

    /// <summary>For <c>async ValueTask&lt;HttpResponse&gt;</c> handlers (a task type cannot be converted to its base's).</summary>
    public Route(string pattern, Func<HttpRequest, ValueTask<HttpResponse>> handler, params string[] methods)
        : this(pattern, HandlerKind.AsyncValueTask, handler, methods, answersHttpResponse: true)
    {
    }

    /// <summary>For <c>async Task&lt;HttpResponse&gt;</c> handlers (a task type cannot be converted to its base's).</summary>
    public Route(string pattern, Func<HttpRequest, Task<HttpResponse>> handler, params string[] methods)
        : this(pattern, HandlerKind.AsyncTask, handler, methods, answersHttpResponse: true)
    {
    }

    /// <summary>The regular expression, matched at the start of the percent-decoded path (as Python's <c>re.match</c>).</summary>
    public string Pattern { get; }

    /// <summary>
    /// Runs the handler as soon as the request head has arrived, before the body: the handler reads the body as it
    /// comes with <see cref="HttpRequest.ReadBodyAsync"/> or <see cref="HttpRequest.BodyStream"/>, and the server
    /// reads the socket only as fast as the handler takes the bytes, so an upload of any size costs bounded memory.
    /// The buffered members (<see cref="HttpRequest.Body"/>, BodyText, Form) are then unavailable. Off by default:
    /// the handler runs once the whole body is buffered (up to <see cref="HttpLimits.MaxRequestBodyBytes"/>).
    /// </summary>
    public bool StreamBody { get; init; }

    /// <summary>Which kind of handler this route runs.</summary>
    public HandlerKind Kind { get; }

    /// <summary>The handler delegate.</summary>
    public Delegate Handler { get; }

    /// <summary>The methods this route answers (upper case), or null for any method.</summary>
    public IReadOnlyList<string>? Methods { get; }

    /// <summary>An async handler whose task is of <see cref="HttpResponse"/> rather than <see cref="HttpResponseBase"/>.</summary>
    internal bool AnswersHttpResponse { get; }

    internal Regex Regex { get; }

    internal string[] GroupNames { get; }

    internal bool HasNamedGroups => GroupNames.Length > 0;

    internal bool AllowsMethod(string method)
    {
        if (Methods is null) return true;
        foreach (string allowed in Methods)
        {
            if (allowed == method) return true;
        }
        return false;
    }

    /// <summary><c>("^/index/$", handler)</c> as a route for any method.</summary>
    public static implicit operator Route((string Pattern, Func<HttpRequest, HttpResponseBase> Handler) route) => new(route.Pattern, route.Handler);

    /// <summary><c>("^/index/$", handler)</c> as a route for any method.</summary>
    public static implicit operator Route((string Pattern, Func<HttpRequest, IEnumerable<Step>> Handler) route) => new(route.Pattern, route.Handler);

    /// <summary><c>("^/index/$", handler)</c> as a route for any method.</summary>
    public static implicit operator Route((string Pattern, Func<HttpRequest, ValueTask<HttpResponse>> Handler) route) => new(route.Pattern, route.Handler);

    /// <summary><c>("^/index/$", handler)</c> as a route for any method.</summary>
    public static implicit operator Route((string Pattern, Func<HttpRequest, ValueTask<HttpResponseBase>> Handler) route) => new(route.Pattern, route.Handler);

    /// <summary><c>("^/index/$", handler)</c> as a route for any method.</summary>
    public static implicit operator Route((string Pattern, Func<HttpRequest, Task<HttpResponseBase>> Handler) route) => new(route.Pattern, route.Handler);

    /// <summary><c>("^/index/$", handler)</c> as a route for any method.</summary>
    public static implicit operator Route((string Pattern, Func<HttpRequest, Task<HttpResponse>> Handler) route) => new(route.Pattern, route.Handler);

    /// <summary>"GET,HEAD ^/users/$": the methods and the pattern, for logs.</summary>
    public override string ToString() => Methods is null ? Pattern : $"{string.Join(",", Methods)} {Pattern}";

    private static Regex Compile(string pattern)
    {
        // "^" pins the match to the start of the path, as re.match does; the group keeps alternations inside it.
        // Not \G, which means the same here but which the non-backtracking engine does not support: every pattern
        // then fell back to the backtracking interpreter.
        string anchored = "^(?:" + pattern + ")";
        try
        {
            return new Regex(anchored, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (NotSupportedException)
        {
            return new Regex(anchored, RegexOptions.CultureInvariant, BacktrackingMatchTimeout);
        }
    }
}
