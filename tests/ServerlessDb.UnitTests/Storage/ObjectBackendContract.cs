using System.Text;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// What every <see cref="IObjectBackend"/> promises, run against each: the in-memory one of the unit tests, the local
/// folder, and S3 (on moto_server with a versioned bucket, in the integration tests, which compile this file too). Each
/// test works under keys of its own. The backend must keep versions, as the template deploys the bucket.
/// </summary>
public abstract class ObjectBackendContract
{
    private static readonly ObjectMetadata Json = new("application/json");

    private readonly string _folder = $"contract-{Guid.NewGuid():N}/";

    private protected abstract Task<IObjectBackend> CreateBackendAsync();

    /// <summary>
    /// Where the backend under test is known to differ from S3 itself (moto does): the contract follows S3, and a test
    /// that meets a declared quirk asserts the quirk instead, so that a backend which loses it fails until it is undeclared.
    /// </summary>
    private protected virtual BackendQuirks Quirks => BackendQuirks.None;

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

    private static async Task<string> ReadAllAsync(ObjectRead read)
    {
        using (read)
        {
            Assert.True(read.Found, "the object was found");
            using var text = new StreamReader(read.Body!, Encoding.UTF8);
            return await text.ReadToEndAsync();
        }
    }

    private static Task<ObjectRead> Read(IObjectBackend backend, string key, ObjectSelector selector) =>
        backend.GetAsync(key, selector, CancellationToken.None);

    private static async Task<PutResult> PutText(IObjectBackend backend, string key, string text, PutCondition? condition = null) =>
        await backend.PutAsync(key, ObjectBody.Of(Bytes(text)), condition ?? PutCondition.Always, Json, CancellationToken.None);

    /// <summary>Every page of the listing <paramref name="request"/> asks for, each from the continuation token of the last.</summary>
    private static async Task<List<ObjectListing>> PagesAsync(IObjectBackend backend, ListRequest request)
    {
        var pages = new List<ObjectListing>();
        do
        {
            pages.Add(await backend.ListAsync(request with { Continuation = pages.LastOrDefault()?.NextContinuation }, CancellationToken.None));
        }
        while (pages[^1].NextContinuation is not null && pages.Count < 100);

        return pages;
    }

    /// <summary>Every version (and deletion marker) under <paramref name="prefix"/>, a page of <paramref name="pageSize"/> at a time, each page from the markers of the last.</summary>
    private static async Task<List<ObjectVersionSummary>> AllVersionsAsync(IObjectBackend backend, string prefix, int pageSize)
    {
        var all = new List<ObjectVersionSummary>();
        string? keyMarker = null;
        string? versionIdMarker = null;
        for (var page = 0; page < 100; page++)
        {
            var listing = await backend.ListVersionsAsync(new VersionListRequest(prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: pageSize), CancellationToken.None);
            Assert.InRange(listing.Versions.Count, 0, pageSize);
            all.AddRange(listing.Versions);
            if (!listing.IsTruncated)
            {
                return all;
            }

            (keyMarker, versionIdMarker) = (listing.NextKeyMarker, listing.NextVersionIdMarker);
        }

        throw new InvalidOperationException("the version listing did not end within 100 pages");
    }

    [Fact]
    public async Task The_backend_keeps_versions()
    {
        var backend = await CreateBackendAsync();

        var versioning = await backend.VersioningAsync(CancellationToken.None);

        Assert.Equal((true, "Enabled"), (versioning.Enabled, versioning.Status));
    }

    [Fact]
    public async Task A_head_of_a_missing_key_is_null_and_a_read_of_a_version_deleted_by_id_is_no_such_version()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var first = await PutText(backend, key, "one");
        await PutText(backend, key, "two");
        await backend.DeleteAsync(key, ifMatch: null, first.VersionId, CancellationToken.None);

        Assert.Null(await backend.HeadAsync(_folder + "missing.sqlite", ObjectSelector.Current, CancellationToken.None));
        using var missing = await Read(backend, _folder + "missing.sqlite", ObjectSelector.Current);
        Assert.Equal((false, false), (missing.Found, missing.IsNotModified));
        Assert.Equal(ObjectBackendFailure.NoSuchVersion, await FailureOf(() => backend.HeadAsync(key, new ObjectSelector(VersionId: first.VersionId), CancellationToken.None)));
        Assert.Equal(ObjectBackendFailure.NoSuchVersion, await FailureOf(() => Read(backend, key, new ObjectSelector(VersionId: first.VersionId))));
    }

    [Fact]
    public async Task Every_put_has_a_new_version_id_even_for_the_same_bytes_and_each_version_reads_by_its_id()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";

        var puts = new List<PutResult>();
        foreach (var text in new[] { "one", "one", "three" })
        {
            puts.Add(await PutText(backend, key, text));
        }

        // S3's ETag of a single-part put is the MD5 of its bytes: the same bytes may have the same ETag.
        Assert.NotEqual(puts[1].ETag, puts[2].ETag);
        Assert.Equal(3, puts.Select(p => p.VersionId).Distinct().Count());
        Assert.All(puts, p => Assert.NotNull(p.VersionId));
        Assert.Equal(["one", "one", "three"], await Task.WhenAll(puts.Select(async p => await ReadAllAsync(await Read(backend, key, new ObjectSelector(VersionId: p.VersionId))))));
        var head = (await backend.HeadAsync(key, new ObjectSelector(VersionId: puts[0].VersionId), CancellationToken.None))!;
        Assert.Equal((puts[0].ETag, puts[0].VersionId, 3L), (head.ETag, head.VersionId, head.Size));
        var current = (await backend.HeadAsync(key, ObjectSelector.Current, CancellationToken.None))!;
        Assert.Equal((puts[2].ETag, puts[2].VersionId), (current.ETag, current.VersionId));
    }

    [Fact]
    public async Task A_range_reads_its_bytes_and_the_info_gives_the_whole_size()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        await PutText(backend, key, "0123456789");

        using var middle = await Read(backend, key, new ObjectSelector(Range: new ObjectRange(2, 3)));
        Assert.Equal(10, middle.Info!.Size);
        Assert.Equal("234", await ReadAllAsync(middle));
        Assert.Equal("789", await ReadAllAsync(await Read(backend, key, new ObjectSelector(Range: new ObjectRange(7)))));
        Assert.Equal("89", await ReadAllAsync(await Read(backend, key, new ObjectSelector(Range: new ObjectRange(8, 50)))));
        Assert.Equal("0123456789", await ReadAllAsync(await Read(backend, key, new ObjectSelector(Range: ObjectRange.All))));
        Assert.Equal("0123456789", await ReadAllAsync(await Read(backend, key, ObjectSelector.Current)));
    }

    [Fact]
    public async Task An_empty_object_reads_whole_asked_as_all_or_without_a_range()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "empty.sqlite";
        await PutText(backend, key, "");

        using var all = await Read(backend, key, new ObjectSelector(Range: ObjectRange.All));
        Assert.Equal(0, all.Info!.Size);
        Assert.Equal("", await ReadAllAsync(all));
        Assert.Equal("", await ReadAllAsync(await Read(backend, key, ObjectSelector.Current)));
    }

    [Fact]
    public async Task A_read_if_match_holds_only_for_the_current_ETag_and_a_missing_key_fails_the_condition()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var (stale, current) = await TwoVersionsAsync(backend, key);

        Assert.Equal("two", await ReadAllAsync(await Read(backend, key, new ObjectSelector(IfMatch: current))));
        Assert.Equal(current, (await backend.HeadAsync(key, new ObjectSelector(IfMatch: current), CancellationToken.None))!.ETag);
        Assert.Equal(ObjectBackendFailure.ConditionFailed, await FailureOf(() => Read(backend, key, new ObjectSelector(IfMatch: stale))));
        Assert.Equal(ObjectBackendFailure.ConditionFailed, await FailureOf(() => backend.HeadAsync(key, new ObjectSelector(IfMatch: stale), CancellationToken.None)));
        Assert.Equal(ObjectBackendFailure.ConditionFailed, await FailureOf(() => Read(backend, _folder + "missing.sqlite", new ObjectSelector(IfMatch: current))));
    }

    [Fact]
    public async Task A_read_if_none_match_the_current_ETag_is_not_modified_and_with_a_stale_one_reads_the_object()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var (stale, current) = await TwoVersionsAsync(backend, key);

        using var unchanged = await Read(backend, key, new ObjectSelector(IfNoneMatch: current));
        using var changed = await Read(backend, key, new ObjectSelector(IfNoneMatch: stale));

        Assert.True(unchanged.IsNotModified);
        Assert.Null(unchanged.Info);
        Assert.Equal(current, changed.Info!.ETag);
        Assert.Equal("two", await ReadAllAsync(changed));
    }

    [Fact]
    public async Task The_content_type_and_user_metadata_come_back_as_put_with_names_in_lower_case()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var user = new Dictionary<string, string> { ["serverlessdb-commit"] = "c-1", ["Serverlessdb-Layout"] = "chunked", ["serverlessdb-crc32"] = "AAAAAA==" };

        await backend.PutAsync(key, ObjectBody.Of(Bytes("x")), PutCondition.IfNoneExists, new ObjectMetadata("application/vnd.sqlite3", user), CancellationToken.None);

        KeyValuePair<string, string>[] expected = [new("serverlessdb-commit", "c-1"), new("serverlessdb-crc32", "AAAAAA=="), new("serverlessdb-layout", "chunked")];
        var head = (await backend.HeadAsync(key, ObjectSelector.Current, CancellationToken.None))!;
        using var read = await Read(backend, key, ObjectSelector.Current);
        Assert.Equal("application/vnd.sqlite3", head.Metadata.ContentType);
        Assert.Equal(expected, head.Metadata.User.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(expected, read.Info!.Metadata.User.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal("application/vnd.sqlite3", read.Info.Metadata.ContentType);
    }

    [Fact]
    public async Task A_put_always_replaces_whatever_is_there_and_a_put_if_match_the_current_ETag_succeeds()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var first = await PutText(backend, key, "one", PutCondition.IfNoneExists);

        var replaced = await PutText(backend, key, "two", PutCondition.Always);
        var matched = await PutText(backend, key, "three", PutCondition.IfMatch(replaced.ETag));

        Assert.NotEqual(first.ETag, replaced.ETag);
        var stored = (await Get(backend, key, 100))!;
        Assert.Equal(("three", matched.ETag), (Encoding.UTF8.GetString(stored.Content), stored.Info.ETag));
    }

    [Fact]
    public async Task A_put_whose_bytes_differ_from_its_CRC32_is_refused_and_stores_nothing()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var put = () => backend.PutAsync(key, ObjectBody.Of(Bytes("the database"), Crc32Of(Bytes("another database"))), PutCondition.Always, Json, CancellationToken.None);

        if (Quirks.HasFlag(BackendQuirks.ChecksumNotVerified))
        {
            await put();
            Assert.NotNull(await backend.HeadAsync(key, ObjectSelector.Current, CancellationToken.None));
            return;
        }

        var failure = await FailureOf(put);

        Assert.Equal(ObjectBackendFailure.Refused, failure);
        Assert.Null(await backend.HeadAsync(key, ObjectSelector.Current, CancellationToken.None));
        Assert.Empty((await backend.ListVersionsAsync(new VersionListRequest(key), CancellationToken.None)).Versions);
    }

    [Fact]
    public async Task A_put_with_the_CRC32_of_its_bytes_is_stored()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var bytes = Bytes("the database");

        var stored = await backend.PutAsync(key, ObjectBody.Of(bytes, Crc32Of(bytes)), PutCondition.IfNoneExists, Json, CancellationToken.None);

        var read = (await Get(backend, key, 100))!;
        Assert.Equal((stored.ETag, "the database"), (read.Info.ETag, Encoding.UTF8.GetString(read.Content)));
    }

    [Fact]
    public async Task Of_many_concurrent_puts_if_match_one_ETag_exactly_one_succeeds()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.lease";
        var start = await PutText(backend, key, "start", PutCondition.IfNoneExists);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            try
            {
                return (Writer: i, ETag: (string?)(await PutText(backend, key, $"writer {i}", PutCondition.IfMatch(start.ETag))).ETag, Failure: (ObjectBackendFailure?)null);
            }
            catch (ObjectBackendException e)
            {
                return (Writer: i, ETag: null, Failure: e.Failure);
            }
        })));

        var winner = Assert.Single(outcomes, o => o.ETag is not null);
        Assert.All(outcomes.Where(o => o.ETag is null), o => Assert.Contains(o.Failure, new ObjectBackendFailure?[] { ObjectBackendFailure.ConditionFailed, ObjectBackendFailure.Conflict }));
        var stored = (await Get(backend, key, 100))!;
        Assert.Equal(($"writer {winner.Writer}", winner.ETag), (Encoding.UTF8.GetString(stored.Content), stored.Info.ETag));
    }

    [Fact]
    public async Task A_delete_without_a_version_id_leaves_a_deletion_marker_as_the_latest_entry_and_keeps_the_object_as_a_noncurrent_version()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var put = await PutText(backend, key, "one");

        await backend.DeleteAsync(key, ifMatch: null, versionId: null, CancellationToken.None);

        Assert.Null(await backend.HeadAsync(key, ObjectSelector.Current, CancellationToken.None));
        Assert.False((await Read(backend, key, ObjectSelector.Current)).Found);
        Assert.Empty((await backend.ListAsync(new ListRequest(_folder), CancellationToken.None)).Keys);
        var versions = (await backend.ListVersionsAsync(new VersionListRequest(_folder), CancellationToken.None)).Versions;
        var (latest, noncurrent) = Quirks.HasFlag(BackendQuirks.DeleteMarkersListedAfterVersions) ? (versions[1], versions[0]) : (versions[0], versions[1]);
        Assert.Equal(2, versions.Count);
        Assert.Equal((true, true), (latest.IsLatest, latest.IsDeleteMarker));
        Assert.Equal((false, false, put.VersionId), (noncurrent.IsLatest, noncurrent.IsDeleteMarker, (string?)noncurrent.VersionId));
        Assert.Equal("one", await ReadAllAsync(await Read(backend, key, new ObjectSelector(VersionId: put.VersionId))));
    }

    [Fact]
    public async Task Deleting_the_current_version_by_id_makes_the_newest_remaining_one_current()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var first = await PutText(backend, key, "one");
        var second = await PutText(backend, key, "two");

        await backend.DeleteAsync(key, ifMatch: null, second.VersionId, CancellationToken.None);

        var current = (await Get(backend, key, 100))!;
        Assert.Equal(("one", first.ETag, first.VersionId), (Encoding.UTF8.GetString(current.Content), current.Info.ETag, current.Info.VersionId));
        var versions = (await backend.ListVersionsAsync(new VersionListRequest(key), CancellationToken.None)).Versions;
        Assert.Equal([(first.VersionId, true)], versions.Select(v => ((string?)v.VersionId, v.IsLatest)));
    }

    [Fact]
    public async Task Deleting_a_deletion_marker_by_id_brings_the_object_back()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var put = await PutText(backend, key, "one");
        await backend.DeleteAsync(key, ifMatch: null, versionId: null, CancellationToken.None);
        var marker = (await backend.ListVersionsAsync(new VersionListRequest(key), CancellationToken.None)).Versions.Single(v => v.IsDeleteMarker);

        await backend.DeleteAsync(key, ifMatch: null, marker.VersionId, CancellationToken.None);

        Assert.True(marker.IsLatest);
        Assert.Equal(put.ETag, (await Get(backend, key, 100))!.Info.ETag);
    }

    [Fact]
    public async Task A_key_whose_every_version_is_deleted_by_id_is_in_no_listing()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "x/a";
        var first = await PutText(backend, key, "one");
        var second = await PutText(backend, key, "two");

        var failures = await backend.DeleteVersionsAsync([new ObjectVersionRef(key, second.VersionId!), new ObjectVersionRef(key, first.VersionId!)], CancellationToken.None);

        Assert.Empty(failures);
        var versions = await backend.ListVersionsAsync(new VersionListRequest(_folder, Delimiter: "/"), CancellationToken.None);
        var objects = await backend.ListAsync(new ListRequest(_folder, Delimiter: "/"), CancellationToken.None);
        Assert.Empty(versions.Versions);
        Assert.Empty(versions.CommonPrefixes);
        Assert.Empty(objects.Objects);
        Assert.Empty(objects.CommonPrefixes);
        Assert.Null(await backend.HeadAsync(key, ObjectSelector.Current, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_versions_deletes_each_named_version_and_leaves_the_others()
    {
        var backend = await CreateBackendAsync();
        var a = _folder + "a.sqlite";
        var b = _folder + "b.sqlite";
        var a1 = await PutText(backend, a, "a1");
        var a2 = await PutText(backend, a, "a2");
        var b1 = await PutText(backend, b, "b1");
        var b2 = await PutText(backend, b, "b2");

        var failures = await backend.DeleteVersionsAsync([new ObjectVersionRef(a, a1.VersionId!), new ObjectVersionRef(b, b1.VersionId!)], CancellationToken.None);

        Assert.Empty(failures);
        var left = await AllVersionsAsync(backend, _folder, pageSize: 100);
        Assert.Equal([(a, a2.VersionId), (b, b2.VersionId)], left.Select(v => (v.Key, (string?)v.VersionId)));
        Assert.Equal("a2", Encoding.UTF8.GetString((await Get(backend, a, 100))!.Content));
    }

    [Fact]
    public async Task Listings_order_keys_by_their_UTF8_bytes()
    {
        var backend = await CreateBackendAsync();

        // UTF-16 puts the surrogate pair of U+1F600 before U+FFFD; UTF-8, as S3 orders keys, puts it after.
        string[] keys = [_folder + "k-a", _folder + "k-\uFFFD", _folder + "k-\U0001F600"];
        foreach (var key in keys.Reverse())
        {
            await PutText(backend, key, "x");
        }

        var listed = await backend.ListAsync(new ListRequest(_folder), CancellationToken.None);
        var versions = await backend.ListVersionsAsync(new VersionListRequest(_folder), CancellationToken.None);
        var afterA = await backend.ListAsync(new ListRequest(_folder, StartAfter: keys[0]), CancellationToken.None);

        Assert.Equal(keys, listed.Keys);
        Assert.Equal(keys, versions.Versions.Select(v => v.Key));
        Assert.Equal(keys[1..], afterA.Keys);
    }

    [Fact]
    public async Task A_listing_rolls_up_keys_at_the_delimiter_into_common_prefixes()
    {
        var backend = await CreateBackendAsync();
        foreach (var key in new[] { "a/1", "a/2", "b", "c/x/y", "d" })
        {
            await PutText(backend, _folder + key, key);
        }

        var page = await backend.ListAsync(new ListRequest(_folder, Delimiter: "/"), CancellationToken.None);
        var below = await backend.ListAsync(new ListRequest(_folder + "c/", Delimiter: "/"), CancellationToken.None);

        Assert.Equal([_folder + "b", _folder + "d"], page.Keys.ToList());
        Assert.Equal([_folder + "a/", _folder + "c/"], page.CommonPrefixes.ToList());
        Assert.Equal([1L, 1L], page.Objects.Select(o => o.Size));
        Assert.Empty(below.Keys);
        Assert.Equal([_folder + "c/x/"], below.CommonPrefixes.ToList());
    }

    [Fact]
    public async Task A_listing_pages_by_max_keys_with_continuation_tokens_and_starts_after_a_key()
    {
        var backend = await CreateBackendAsync();
        var keys = new[] { "k1", "k2", "k3", "k4", "k5" }.Select(k => _folder + k).ToList();
        foreach (var key in keys.AsEnumerable().Reverse())
        {
            await PutText(backend, key, key);
        }

        var pages = await PagesAsync(backend, new ListRequest(_folder, MaxKeys: 2));
        var afterK2 = await backend.ListAsync(new ListRequest(_folder, StartAfter: keys[1]), CancellationToken.None);

        Assert.Equal([2, 2, 1], pages.Select(p => p.Objects.Count));
        Assert.Equal(keys, pages.SelectMany(p => p.Keys));
        Assert.Equal(keys[2..], afterK2.Keys.ToList());
    }

    [Fact]
    public async Task A_listing_with_a_delimiter_pages_one_entry_at_a_time_counting_a_common_prefix_once()
    {
        var backend = await CreateBackendAsync();
        foreach (var key in new[] { "a/1", "a/2", "b", "c/1", "c/2", "d" })
        {
            await PutText(backend, _folder + key, key);
        }

        var pages = await PagesAsync(backend, new ListRequest(_folder, Delimiter: "/", MaxKeys: 1));

        Assert.All(pages, p => Assert.Equal(1, p.Objects.Count + p.CommonPrefixes.Count));
        Assert.Equal(["a/", "b", "c/", "d"], pages.SelectMany(p => p.Keys.Concat(p.CommonPrefixes)).Select(e => e[_folder.Length..]));
    }

    [Fact]
    public async Task A_listing_of_versions_gives_keys_in_order_each_newest_first_across_pages()
    {
        var backend = await CreateBackendAsync();
        var a = _folder + "a.sqlite";
        var b = _folder + "b.sqlite";
        var a1 = await PutText(backend, a, "a1");
        var b1 = await PutText(backend, b, "b1");
        var a2 = await PutText(backend, a, "a2");
        var a3 = await PutText(backend, a, "a3");
        var b2 = await PutText(backend, b, "b2");

        var paged = await AllVersionsAsync(backend, _folder, pageSize: 2);
        var whole = await AllVersionsAsync(backend, _folder, pageSize: 100);

        Assert.Equal(
            [(a, a3.VersionId, true), (a, a2.VersionId, false), (a, a1.VersionId, false), (b, b2.VersionId, true), (b, b1.VersionId, false)],
            paged.Select(v => (v.Key, (string?)v.VersionId, v.IsLatest)));
        Assert.Equal(paged.Select(v => v.VersionId), whole.Select(v => v.VersionId));
        Assert.All(paged, v => Assert.Equal(2, v.Size));
    }

    [Fact]
    public async Task A_listing_of_versions_rolls_up_keys_at_the_delimiter()
    {
        var backend = await CreateBackendAsync();
        await PutText(backend, _folder + "x/a", "a");
        await PutText(backend, _folder + "x/b", "b");
        var top = await PutText(backend, _folder + "y", "y");

        var listing = await backend.ListVersionsAsync(new VersionListRequest(_folder, Delimiter: "/"), CancellationToken.None);

        Assert.Equal([_folder + "x/"], listing.CommonPrefixes.ToList());
        Assert.Equal([(_folder + "y", top.VersionId)], listing.Versions.Select(v => (v.Key, (string?)v.VersionId)));
    }

    [Fact]
    public async Task A_listing_of_versions_continuing_after_a_version_id_it_never_gave_is_an_invalid_argument()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        await PutText(backend, key, "one");

        var listing = () => backend.ListVersionsAsync(new VersionListRequest(_folder, KeyMarker: key, VersionIdMarker: "no-such-version"), CancellationToken.None);

        if (Quirks.HasFlag(BackendQuirks.UnknownVersionIdMarkerAccepted))
        {
            Assert.Empty((await listing()).Versions);
            return;
        }

        Assert.Equal(ObjectBackendFailure.InvalidArgument, await FailureOf(listing));
    }

    [Fact]
    public async Task A_stream_opened_by_a_get_still_reads_the_old_bytes_after_a_put_replaced_the_object()
    {
        var backend = await CreateBackendAsync();
        var key = _folder + "a.sqlite";
        var old = new string('o', 200_000);
        await PutText(backend, key, old);

        using var read = await Read(backend, key, ObjectSelector.Current);
        await PutText(backend, key, new string('n', 200_000));
        await backend.DeleteVersionsAsync(
            [.. (await backend.ListVersionsAsync(new VersionListRequest(key), CancellationToken.None)).Versions.Where(v => !v.IsLatest).Select(v => new ObjectVersionRef(key, v.VersionId))],
            CancellationToken.None);

        Assert.Equal(old, await ReadAllAsync(read));
        Assert.Equal('n', Encoding.UTF8.GetString((await Get(backend, key, 1))!.Content)[0]);
    }

    private static string Crc32Of(byte[] bytes)
    {
        var value = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(value, System.IO.Hashing.Crc32.HashToUInt32(bytes));
        return Convert.ToBase64String(value);
    }
}

/// <summary>Ways a backend under test is known to differ from S3 (see <see cref="ObjectBackendContract"/>).</summary>
[Flags]
internal enum BackendQuirks
{
    None = 0,

    /// <summary>A version listing gives a key's deletion markers after all its versions, not in their place among them, newest first, as S3 does.</summary>
    DeleteMarkersListedAfterVersions = 1,

    /// <summary>A version listing continues after a version id marker the backend never gave, where S3 answers 400 InvalidArgument.</summary>
    UnknownVersionIdMarkerAccepted = 2,

    /// <summary>A put stores bytes that differ from the CRC32 sent with them, where S3 answers 400 BadDigest and stores nothing.</summary>
    ChecksumNotVerified = 4,
}
