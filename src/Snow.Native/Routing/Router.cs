using System.Text.RegularExpressions;

namespace Snow.Native;

/// <summary>The outcome of routing one request; <see cref="Groups"/> is the match of a route with named groups.</summary>
internal readonly record struct RouteMatch(Route? Route, bool MethodNotAllowed, string? AllowedMethods, Match? Groups = null);

/// <summary>
/// Tries routes in order; the first whose pattern matches and whose methods allow the request wins. Each pattern
/// runs once per request: a route without named groups is tested on the decoded path's span (no allocation); one
/// with named groups is matched on the path's string, and that match is what its route values are read from.
/// </summary>
internal sealed class Router
{
    private readonly Route[] _routes;

    public Router(IEnumerable<Route> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        _routes = routes.ToArray();
        foreach (Route route in _routes) ArgumentNullException.ThrowIfNull(route, nameof(routes));
    }

    public IReadOnlyList<Route> Routes => _routes;

    /// <summary>Finds the route for a decoded path.</summary>
    public RouteMatch Match(ReadOnlySpan<char> path, string method) => Match(path, method, null);

    /// <summary>Finds the route for a request whose path was decoded; the path string, if a pattern needs it, is the request's.</summary>
    public RouteMatch Match(HttpRequest request) => Match(request.DecodedPathSpan, request.Method, request);

    private RouteMatch Match(ReadOnlySpan<char> path, string method, HttpRequest? request)
    {
        List<string>? allowed = null;
        string? pathString = null;
        foreach (Route route in _routes)
        {
            Match? groups = null;
            bool matched;
            try
            {
                if (route.HasNamedGroups)
                {
                    pathString ??= request?.Path ?? new string(path);
                    groups = route.Regex.Match(pathString);
                    matched = groups.Success;
                }
                else
                {
                    matched = route.Regex.IsMatch(path);
                }
            }
            catch (RegexMatchTimeoutException)
            {
                matched = false; // a pathological path against a backtracking pattern is no match, not a stuck loop
            }
            if (!matched) continue;
            if (route.AllowsMethod(method)) return new RouteMatch(route, false, null, groups);
            allowed ??= new List<string>();
            foreach (string m in route.Methods!)
            {
                if (!allowed.Contains(m)) allowed.Add(m);
            }
        }
        return allowed is null ? default : new RouteMatch(null, true, string.Join(", ", allowed));
    }
}
