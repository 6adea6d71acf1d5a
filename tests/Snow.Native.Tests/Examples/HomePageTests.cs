using System.Net;
using NUnit.Framework;
using Snow.Native;

[TestFixture]
public class HomePageTests
{
    [Test]
    public async Task HomeAnswersWithoutOpeningAPort()
    {
        await using var app = new SnowApp([("^/home/$", request => new HttpResponse("home"))]);
        using HttpClient client = app.CreateTestClient();

        HttpResponseMessage response = await client.GetAsync("/home/");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("home"));
    }
}
