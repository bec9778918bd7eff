namespace ServerlessDb.Api;

/// <summary>
/// Answers one HTTP request. Never throws for bad input or unavailable dependencies:
/// those become 4xx and 5xx responses. A thrown exception is a bug.
/// </summary>
public interface IApiHandler
{
    Task<ApiResponse> HandleAsync(ApiRequest request, CancellationToken cancellationToken);
}
