using System.Text;
using ServerlessDb.IntegrationTests.Faults;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>A local server process (which may be killed and restarted) over real HTTP.</summary>
public sealed class HttpHistoryClient(TortureWriter writer, HttpClient http) : IHistoryClient
{
    private static readonly TimeSpan UpDeadline = TimeSpan.FromSeconds(30);

    public string Name => writer.Name;

    public async Task<HistoryAnswer> PostAsync(string path, string query, string body, string? idempotencyKey)
    {
        var url = await writer.WhenUpAsync(UpDeadline);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, path.TrimStart('/') + "?" + query))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        try
        {
            using var response = await http.SendAsync(request);
            return new HistoryAnswer((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // Refused: the process was down between its kill and its restart; nothing was sent.
            return new HistoryAnswer(null, $"not sent to {url}: {e.Message}", Sent: false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new HistoryAnswer(null, $"no answer from {url} (killed mid-request?): {e.Message}");
        }
    }
}
