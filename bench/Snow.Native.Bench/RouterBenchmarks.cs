using BenchmarkDotNet.Attributes;

namespace Snow.Native.Bench;

/// <summary>
/// <see cref="Router.Match"/> over a 10-route table, tried in order as the original Snow did: the first route, the
/// last, one with named groups (the match alone, then with the route values the connection extracts for such a
/// route), and a path no route matches (all ten tried).
/// </summary>
public class RouterBenchmarks
{
    private static readonly HttpResponse Ok = new("ok", 200, "text/plain");

    private Router _router = null!;
    private Route _userPost = null!;
    private char[] _first = [];
    private char[] _last = [];
    private char[] _named = [];
    private char[] _none = [];

    [GlobalSetup]
    public void Setup()
    {
        Func<HttpRequest, HttpResponse> handler = _ => Ok;
        Route[] routes =
        [
            new("^/$", handler),
            new("^/plaintext$", handler),
            new("^/json$", handler),
            new("^/static/(?<file>.+)$", handler),
            new("^/users/$", handler),
            new(@"^/users/(?<id>\d+)$", handler),
            new(@"^/users/(?<id>\d+)/posts/(?<post>\d+)$", handler),
            new("^/search$", handler),
            new("^/api/v1/orders$", handler, "POST"),
            new("^/health$", handler),
        ];
        _router = new Router(routes);
        _userPost = routes[6];
        _first = "/".ToCharArray();
        _last = "/health".ToCharArray();
        _named = "/users/12345/posts/67".ToCharArray();
        _none = "/favicon.ico".ToCharArray();

        RequestParserBenchmarks.Require(ReferenceEquals(_router.Match(_first, "GET").Route, routes[0]), "first route");
        RequestParserBenchmarks.Require(ReferenceEquals(_router.Match(_last, "GET").Route, routes[9]), "last route");
        RequestParserBenchmarks.Require(ReferenceEquals(_router.Match(_named, "GET").Route, _userPost), "named groups route");
        RequestParserBenchmarks.Require(_router.Match(_none, "GET") is { Route: null, MethodNotAllowed: false }, "no route");
        RequestParserBenchmarks.Require(MatchNamedGroupsWithRouteValues() == 2, "route values");
    }

    [Benchmark(Baseline = true)]
    public Route? MatchFirst() => _router.Match(_first, "GET").Route;

    [Benchmark]
    public Route? MatchLast() => _router.Match(_last, "GET").Route;

    [Benchmark]
    public Route? MatchNamedGroups() => _router.Match(_named, "GET").Route;

    /// <summary>
    /// What routing does for a route with named groups: the path becomes a string once and the pattern runs once,
    /// keeping its Match, from which RouteValues are read. The allocations are the price of the string-keyed API.
    /// </summary>
    [Benchmark]
    public int MatchNamedGroupsWithRouteValues()
    {
        RouteMatch match = _router.Match(_named, "GET");
        if (match.Route is null || match.Groups is null) return -1;
        int values = 0;
        foreach (string name in match.Route.GroupNames)
        {
            if (match.Groups.Groups[name].Success) values++;
        }
        return values;
    }

    [Benchmark]
    public Route? NoMatch() => _router.Match(_none, "GET").Route;
}
