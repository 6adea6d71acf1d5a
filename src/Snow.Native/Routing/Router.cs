using System.Text.RegularExpressions;

namespace Snow.Native;

/// <summary>The outcome of routing one request.</summary>
internal readonly record struct RouteMatch(Route? Route, bool MethodNotAllowed, string? AllowedMethods);

/// <summary>Tries routes in order; the first whose pattern matches and whose methods allow the request wins.</summary>
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

    /// <summary>Finds the route for a decoded path. Matching a span allocates nothing.</summary>
    public RouteMatch Match(ReadOnlySpan<char> path, string method)
    {
        List<string>? allowed = null;
        foreach (Route route in _routes)
        {
            bool matched;
            try
            {
                matched = route.Regex.IsMatch(path);
            }
            catch (RegexMatchTimeoutException)
            {
                matched = false; // a pathological path against a backtracking pattern is no match, not a stuck loop
            }
            if (!matched) continue;
            if (route.AllowsMethod(method)) return new RouteMatch(route, false, null);
            allowed ??= new List<string>();
            foreach (string m in route.Methods!)
            {
                if (!allowed.Contains(m)) allowed.Add(m);
            }
        }
        return allowed is null ? default : new RouteMatch(null, true, string.Join(", ", allowed));
    }

    /// <summary>The named groups of <paramref name="route"/> matched against <paramref name="path"/>.</summary>
    public static IReadOnlyDictionary<string, string> RouteValues(Route route, string path)
    {
        var values = new Dictionary<string, string>(route.GroupNames.Length, StringComparer.Ordinal);
        Match match;
        try
        {
            match = route.Regex.Match(path);
        }
        catch (RegexMatchTimeoutException)
        {
            return values;
        }
        foreach (string name in route.GroupNames)
        {
            Group group = match.Groups[name];
            if (group.Success) values[name] = group.Value;
        }
        return values;
    }
}
