namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>What a client got for one request: the HTTP status and body, or no status when nothing came back (<paramref name="Sent"/> says whether the request left at all).</summary>
public sealed record HistoryAnswer(int? Status, string Body, bool Sent = true);
