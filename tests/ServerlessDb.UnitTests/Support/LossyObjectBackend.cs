using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// Any <see cref="IObjectBackend"/> whose next answers to puts can be lost: the put is carried out, and then the caller
/// hears nothing but a broken connection, as when an answer is dropped on the way back. Everything else is the inner
/// backend's own, so the store contract can break answers on every backend alike.
/// </summary>
internal sealed class LossyObjectBackend(IObjectBackend inner) : IObjectBackend
{
    private int _putAnswersToLose;
    private Func<Task>? _beforeAnswerLost;

    /// <summary>How many puts were carried out whose answer was lost.</summary>
    public int LostAnswers { get; private set; }

    /// <summary>
    /// The next <paramref name="count"/> puts of a key ending with <c>.sqlite</c> (a commit) land, and their answers are lost;
    /// <paramref name="beforeAnswerLost"/> runs between the two (another writer acting while the answer is on its way).
    /// </summary>
    public void LoseNextCommitAnswers(int count = 1, Func<Task>? beforeAnswerLost = null)
    {
        _beforeAnswerLost = beforeAnswerLost;
        Interlocked.Exchange(ref _putAnswersToLose, count);
    }

    public string Name => inner.Name;

    public string Describe(string key) => inner.Describe(key);

    public Task<ObjectVersioning> VersioningAsync(CancellationToken cancellationToken) => inner.VersioningAsync(cancellationToken);

    public Task<ObjectInfo?> HeadAsync(string key, ObjectSelector selector, CancellationToken cancellationToken) => inner.HeadAsync(key, selector, cancellationToken);

    public Task<ObjectRead> GetAsync(string key, ObjectSelector selector, CancellationToken cancellationToken) => inner.GetAsync(key, selector, cancellationToken);

    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken)
    {
        var result = await inner.PutAsync(key, body, condition, metadata, cancellationToken);
        if (key.EndsWith(".sqlite", StringComparison.Ordinal) && Interlocked.Decrement(ref _putAnswersToLose) >= 0)
        {
            LostAnswers++;
            if (_beforeAnswerLost is { } hook)
            {
                await hook();
            }

            throw new ObjectBackendException(ObjectBackendFailure.Unavailable, "PutObject", inner.Describe(key), "HttpRequestException: the connection was reset", answered: false);
        }

        return result;
    }

    public Task DeleteAsync(string key, string? ifMatch, string? versionId, CancellationToken cancellationToken) => inner.DeleteAsync(key, ifMatch, versionId, cancellationToken);

    public Task<IReadOnlyList<VersionDeleteFailure>> DeleteVersionsAsync(IReadOnlyList<ObjectVersionRef> versions, CancellationToken cancellationToken) =>
        inner.DeleteVersionsAsync(versions, cancellationToken);

    public Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken) => inner.ListAsync(request, cancellationToken);

    public Task<VersionListing> ListVersionsAsync(VersionListRequest request, CancellationToken cancellationToken) => inner.ListVersionsAsync(request, cancellationToken);
}
