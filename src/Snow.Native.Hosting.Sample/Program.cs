using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Snow.Native;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSnow((services, snow) =>
{
    var clock = services.GetRequiredService<TimeProvider>(); // resolved once, at start
    snow.Routes.Add(("^/index/$", request => new HttpResponse("OK")));
    snow.Routes.Add(("^/time/$", request => new HttpResponse(clock.GetUtcNow().ToString("O"))));
});
builder.Build().Run(); // Ctrl+C or SIGTERM: a graceful stop within the host's shutdown timeout
