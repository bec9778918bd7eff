using System.Text;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// What every <see cref="IObjectBackend"/> promises, run against each: the in-memory one of the unit tests and S3 (on
/// moto_server, in the integration tests, which compile this file too). Each test works under keys of its own.
/// </summary>
public abstract class ObjectBackendContract
{
    private static readonly ObjectMetadata Json = new("application/json");

    private readonly string _folder = $"contract-{Guid.NewGuid():N}/";

    private protected abstract Task<IObjectBackend> CreateBackendAsync();

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static async Task<string> Put(IObjectBackend backend, string key, byte[] bytes, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken) =>
        (await backend.PutAsync(key, ObjectBody.Of(bytes), condition, metadata, cancellationToken)).ETag;

    private static Task<SmallObject?> Get(IObjectBackend backend, string key, int maxBytes) =>
        backend.GetSmallAsync(key, ObjectSelector.Current, maxBytes, CancellationToken.None);

    private static async Task<ObjectBackendFailure> FailureOf(Func<Task> call) =>
        (await Assert.ThrowsAsync<ObjectBackendException>(call)).Failure;

    // A key written twice: the ETag of its first version, now stale, and of its current one.
    private static async Task<(string Stale, string Current)> TwoVersionsAsync(IObjectBackend backend, string key)
    {
        var stale = await Put(backend, key, Bytes("one"), PutCondition.IfNoneExists, Json, CancellationToken.None);
        return (stale, await Put(backend, key, Bytes("two"), PutCondition.IfMatch(stale), Json, CancellationToken.None));
    }

    [Fact]
    public async Task A_second_put_if_none_exists_fails_with_condition_failed_and_leaves_the_first()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.lease";
        var first = await Put(backend, key, Bytes("first"), PutCondition.IfNoneExists, Json, CancellationToken.None);

        var failure = await FailureOf(() => Put(backend, key, Bytes("second"), PutCondition.IfNoneExists, Json, CancellationToken.None));

        Assert.Equal(ObjectBackendFailure.ConditionFailed, failure);
        var stored = (await Get(backend, key, 100))!;
        Assert.Equal(("first", first), (Encoding.UTF8.GetString(stored.Content), stored.Info.ETag));
    }

    [Fact]
    public async Task A_put_if_match_a_stale_ETag_fails_with_condition_failed()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.lease";
        var (stale, current) = await TwoVersionsAsync(backend, key);

        var failure = await FailureOf(() => Put(backend, key, Bytes("three"), PutCondition.IfMatch(stale), Json, CancellationToken.None));

        Assert.Equal(ObjectBackendFailure.ConditionFailed, failure);
        Assert.NotEqual(stale, current);
        Assert.Equal(current, (await Get(backend, key, 100))!.Info.ETag);
    }

    [Fact]
    public async Task A_put_if_match_on_a_missing_key_fails_with_condition_failed()
    {
        var backend = await CreateBackendAsync();

        var failure = await FailureOf(() => Put(backend, _folder + "gone.lease", Bytes("x"), PutCondition.IfMatch("\"0123456789abcdef0123456789abcdef\""), Json, CancellationToken.None));

        Assert.Equal(ObjectBackendFailure.ConditionFailed, failure);
        Assert.Null(await Get(backend, _folder + "gone.lease", 100));
    }

    [Fact]
    public async Task A_get_of_a_missing_key_is_null()
    {
        var backend = await CreateBackendAsync();

        Assert.Null(await Get(backend, _folder + "missing.lease", 100));
    }

    [Fact]
    public async Task A_get_returns_the_content_the_ETag_of_the_put_and_the_metadata_and_says_when_it_read_only_the_first_bytes()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.lease";
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var etag = await Put(backend, key, Bytes("0123456789"), PutCondition.IfNoneExists, new ObjectMetadata("application/json", new Dictionary<string, string> { ["holder"] = "req-1" }), CancellationToken.None);

        var whole = (await Get(backend, key, 10))!;
        var start = (await Get(backend, key, 4))!;

        Assert.Equal((key, etag, "0123456789", true), (whole.Info.Key, whole.Info.ETag, Encoding.UTF8.GetString(whole.Content), whole.IsWhole));
        Assert.Equal("application/json", whole.Info.Metadata.ContentType);
        Assert.Equal("req-1", whole.Info.Metadata.User["holder"]);
        Assert.InRange(whole.Info.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(("0123", false), (Encoding.UTF8.GetString(start.Content), start.IsWhole));
    }

    [Fact]
    public async Task A_listing_by_prefix_has_the_keys_under_it_in_key_order_and_no_others()
    {
        var backend = await CreateBackendAsync();
        foreach (var key in new[] { "locks/b.lease", "locks/a.lease", "lockstep.txt", "data/a.sqlite" })
        {
            await Put(backend, _folder + key, Bytes(key), PutCondition.IfNoneExists, Json, CancellationToken.None);
        }

        var page = await backend.ListAsync(new ListRequest(_folder + "locks/"), CancellationToken.None);

        Assert.Equal([_folder + "locks/a.lease", _folder + "locks/b.lease"], page.Keys.ToList());
        Assert.Null(page.NextContinuation);
    }

    [Fact]
    public async Task A_delete_if_match_a_stale_ETag_fails_with_condition_failed_and_with_the_current_one_deletes()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.lease";
        var (stale, current) = await TwoVersionsAsync(backend, key);

        var failure = await FailureOf(() => backend.DeleteAsync(key, stale, versionId: null, CancellationToken.None));
        Assert.Equal(current, (await Get(backend, key, 100))!.Info.ETag);
        await backend.DeleteAsync(key, current, versionId: null, CancellationToken.None);

        Assert.Equal(ObjectBackendFailure.ConditionFailed, failure);
        Assert.Null(await Get(backend, key, 100));
    }

    [Fact]
    public async Task A_delete_if_match_of_a_key_already_gone_fails_with_condition_failed_and_without_a_condition_succeeds()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.lease";
        var etag = await Put(backend, key, Bytes("one"), PutCondition.IfNoneExists, Json, CancellationToken.None);
        await backend.DeleteAsync(key, ifMatch: null, versionId: null, CancellationToken.None);

        var failure = await FailureOf(() => backend.DeleteAsync(key, etag, versionId: null, CancellationToken.None));
        await backend.DeleteAsync(key, ifMatch: null, versionId: null, CancellationToken.None);

        Assert.Equal(ObjectBackendFailure.ConditionFailed, failure);
    }
}
