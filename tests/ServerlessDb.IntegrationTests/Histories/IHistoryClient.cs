namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>One container (or process) of a deployment, as the workload sends requests to it.</summary>
public interface IHistoryClient
{
    string Name { get; }

    /// <summary>POSTs a JSON body to <paramref name="path"/> with <paramref name="query"/>; never throws for a lost or missing answer.</summary>
    Task<HistoryAnswer> PostAsync(string path, string query, string body, string? idempotencyKey);
}
