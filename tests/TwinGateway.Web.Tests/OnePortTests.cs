using System.Net;
using System.Net.Sockets;
using System.Text;
using TwinGateway.Api.V1;

namespace TwinGateway.Web.Tests;

/// <summary>
/// gRPC (HTTP/2 without TLS) and the console's pages (HTTP/1.1) on the one API port: the cleartext multiplexer sends
/// each connection to the right protocol by its first bytes, however they are split.
/// </summary>
public sealed class OnePortTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();

    public async Task InitializeAsync() => await _gateway.StartAsync(_gateway.DemoYaml);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Pages_over_http1_and_grpc_over_http2_answer_on_the_same_port_at_once()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_gateway.Server) };
        var lines = new LineService.LineServiceClient(_gateway.CallInvoker!);
        var pages = Enumerable.Range(0, 8).Select(_ => http.GetAsync("/signin")).ToList();
        var calls = Enumerable.Range(0, 8).Select(_ => lines.ListLinesAsync(new ListLinesRequest()).ResponseAsync).ToList();
        foreach (var page in await Task.WhenAll(pages))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(new Version(1, 1), page.Version);
            Assert.Contains("<label for=\"token\">Token</label>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.All(await Task.WhenAll(calls), r => Assert.Equal("demo-line", Assert.Single(r.Lines).Id));

        // Unauthenticated pages send the browser to the sign-in form, with the way back.
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_gateway.Server) };
        var redirect = await noRedirect.GetAsync("/alerts");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Contains("/signin?ReturnUrl=%2Falerts", redirect.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_preface_sent_a_byte_at_a_time_still_reaches_http2_and_a_request_split_anywhere_reaches_http1()
    {
        // HTTP/2: the preface one byte per write, then an empty SETTINGS frame; the server answers with its SETTINGS.
        using (var h2 = new TcpClient())
        {
            await h2.ConnectAsync(IPAddress.Loopback, _gateway.ApiPort);
            var stream = h2.GetStream();
            foreach (var b in "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray())
            {
                await stream.WriteAsync(new[] { b });
                await stream.FlushAsync();
                await Task.Delay(2);
            }

            await stream.WriteAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 });
            var header = new byte[9];
            await stream.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(4, header[3]); // frame type SETTINGS
        }

        // HTTP/1.1: a request whose first bytes also begin like the preface ("P"), split across writes.
        using (var h1 = new TcpClient())
        {
            await h1.ConnectAsync(IPAddress.Loopback, _gateway.ApiPort);
            var stream = h1.GetStream();
            var request = Encoding.ASCII.GetBytes($"POST /signin HTTP/1.1\r\nHost: 127.0.0.1:{_gateway.ApiPort}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(request.AsMemory(0, 1));
            await stream.FlushAsync();
            await Task.Delay(50);
            await stream.WriteAsync(request.AsMemory(1));
            using var reader = new StreamReader(stream, Encoding.ASCII);
            var status = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("HTTP/1.1 400", status, StringComparison.Ordinal); // no antiforgery token: refused, by HTTP/1.1
            var rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)); // Connection: close ends the relay
            Assert.NotNull(rest);
        }
    }
}
