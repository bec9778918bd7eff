using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ServerlessDb.Domain;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>
/// pyrqlite's traffic pattern on one keep-alive connection (docs/clients.md): it leaves the body of any
/// answer but a 200 unread, sends its next request on the same connection, and when that answer cannot be
/// read (the unread body is in the way), sends the same request again on a new connection. So any 4xx
/// for a request rqlite answers with a 200 makes pyrqlite run its next write twice.
/// </summary>
public sealed class PyrqliteTrafficTests
{
    [Fact]
    public async Task A_nul_in_sql_answers_200_so_the_next_write_on_the_connection_runs_once()
    {
        await using var server = await LocalServerHandle.StartAsync();
        await server.PostAsync("/db/execute", """["CREATE TABLE test(name TEXT)"]""");
        using var client = new PyrqliteLikeClient(server.App.Url);

        var withNul = await client.ExecuteAsync("""["insert into test(name) values ('Hu\u0000go')"]""");
        var next = await client.ExecuteAsync("""["insert into test(name) values ('once')"]""");

        var stored = await server.Http.GetStringAsync("/db/query?q=SELECT%20name%20FROM%20test");
        Assert.Equal("""{"results":[{"columns":["name"],"types":["text"],"values":[["once"]]}]}""", stored);
        Assert.Equal(200, withNul.Status);
        Assert.Equal(RequestMessages.NulInSql, JsonDocument.Parse(withNul.Body!).RootElement.GetProperty("results")[0].GetProperty("error").GetString());
        Assert.Equal((200, 1), (next.Status, client.Connections));
    }

    /// <summary>What pyrqlite's connection does with HTTP, byte for byte where it matters.</summary>
    private sealed class PyrqliteLikeClient(Uri server) : IDisposable
    {
        private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
        private TcpClient? _tcp;

        public int Connections { get; private set; }

        public async Task<(int Status, string? Body)> ExecuteAsync(string json)
        {
            var request = Encoding.UTF8.GetBytes(
                $"POST /db/execute HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\n" +
                $"Content-Length: {Encoding.UTF8.GetByteCount(json)}\r\n\r\n{json}");
            for (var attempt = 1; attempt <= 10; attempt++)
            {
                var stream = await StreamAsync();
                await stream.WriteAsync(request);
                var answer = await TryReadAnswerAsync(stream);
                if (answer is not null)
                {
                    return answer.Value;
                }

                // pyrqlite's _retry_request: close, reconnect, send the same request again.
                _tcp!.Dispose();
                _tcp = null;
            }

            throw new InvalidOperationException("no readable answer in 10 attempts");
        }

        public void Dispose() => _tcp?.Dispose();

        private async Task<NetworkStream> StreamAsync()
        {
            if (_tcp is null)
            {
                _tcp = new TcpClient();
                await _tcp.ConnectAsync(server.Host, server.Port);
                Connections++;
            }

            return _tcp.GetStream();
        }

        // Null when what comes back is not an HTTP answer (the unread body of the answer before it).
        // Any status but 200 leaves its body unread on the connection, as pyrqlite's cursor does.
        private static async Task<(int Status, string? Body)?> TryReadAnswerAsync(NetworkStream stream)
        {
            using var timeout = new CancellationTokenSource(ReadTimeout);
            var head = new List<byte>();
            var buffer = new byte[1];
            while (!EndsWithBlankLine(head))
            {
                if (await stream.ReadAsync(buffer, timeout.Token) == 0)
                {
                    return null;
                }

                head.Add(buffer[0]);
            }

            var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
            var statusLine = lines[0].Split(' ');
            if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(statusLine[1], out var status))
            {
                return null;
            }

            if (status != 200)
            {
                return (status, null);
            }

            var length = lines
                .Select(l => l.Split(':', 2))
                .Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                .Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture))
                .Single();
            var body = new byte[length];
            await stream.ReadExactlyAsync(body, timeout.Token);
            return (status, Encoding.UTF8.GetString(body));
        }

        private static bool EndsWithBlankLine(List<byte> head) =>
            head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n';
    }
}
