using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// How a commit whose answer is lost, late or a 412 is settled: the store looks at the commit the
/// stored object records before it calls anything a conflict, so a write lands once or not at all,
/// and an outcome it cannot tell is reported as such.
/// </summary>
public sealed class S3DatabaseStoreCommitTests : IDisposable
{
    private const string Db = "ledger";
    private static readonly DatabaseETag Read = new("\"v1\"");

    private readonly string _root = Path.Combine(Path.GetTempPath(), "sdb-commit-tests-" + Guid.NewGuid().ToString("N"));
    private readonly Mock<IAmazonS3> _s3 = new(MockBehavior.Strict);
    private readonly Lock _gate = new();
    private readonly List<string> _calls = [];

    // The fake bucket's object: a conditional PUT replaces it; HEAD shows its metadata.
    private StoredCommit? _stored = new("\"v1\"", [new CommitLink("first-commit", StoredCommit.NoParent)]);
    private int _versions = 1;

    // What each PUT attempt does, in order; once used up, PUTs behave as S3 does.
    private readonly Queue<PutFault> _putFaults = new();
    private Func<Exception?> _headFault = () => null;

    public S3DatabaseStoreCommitTests()
    {
        Directory.CreateDirectory(_root);
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((PutObjectRequest request, CancellationToken token) => PutAsync(request, token));
        _s3.Setup(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectMetadataRequest _, CancellationToken _) => HeadAsync());
    }

    private enum PutFault
    {
        /// <summary>The PUT lands, and its answer is lost (a reset after S3 applied it).</summary>
        LandAndLoseAnswer,

        /// <summary>The PUT lands, and the answer comes after the caller stopped waiting.</summary>
        LandAndAnswerNever,

        /// <summary>S3 answers 503 SlowDown without applying it.</summary>
        SlowDown,

        /// <summary>No answer, and nothing applied (a connection that hangs).</summary>
        Hang,

        /// <summary>Another writer's commit lands just before this PUT arrives.</summary>
        AnotherWriterFirst,
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_put_that_landed_and_lost_its_answer_is_committed_once_when_the_retry_gets_412()
    {
        _putFaults.Enqueue(PutFault.LandAndLoseAnswer);

        var version = (await CreateStore().CommitAsync(Db, Read, WorkFile(), default)).ETag;

        Assert.Equal(new DatabaseETag(_stored!.ETag), version);
        Assert.Equal(2, _versions);
        Assert.Equal(["PUT lands, answer lost", "PUT 412", "HEAD"], _calls);
    }

    [Fact]
    public async Task A_put_whose_answer_is_lost_on_every_attempt_is_committed_once()
    {
        for (var i = 0; i < 20; i++)
        {
            _putFaults.Enqueue(PutFault.LandAndLoseAnswer);
        }

        var version = (await CreateStore().CommitAsync(Db, Read, WorkFile(), default)).ETag;

        Assert.Equal(new DatabaseETag(_stored!.ETag), version);
        Assert.Equal(2, _versions);
    }

    [Fact]
    public async Task A_first_412_that_is_our_own_landed_commit_is_not_a_conflict()
    {
        // The HTTP stack re-sent a PUT whose first copy landed: the first answer this store sees is a 412.
        _putFaults.Enqueue(PutFault.LandAndLoseAnswer);
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns(async (PutObjectRequest request, CancellationToken token) =>
            {
                try
                {
                    await PutAsync(request, token);
                }
                catch (HttpRequestException)
                {
                    // The copy sent below us: its answer is the one the store gets.
                }

                return await PutAsync(request, token);
            });

        var version = (await CreateStore().CommitAsync(Db, Read, WorkFile(), default)).ETag;

        Assert.Equal(new DatabaseETag(_stored!.ETag), version);
        Assert.Equal(2, _versions);
        Assert.Equal(["PUT lands, answer lost", "PUT 412", "HEAD"], _calls);
    }

    [Fact]
    public async Task A_412_from_another_writers_commit_on_the_same_version_is_a_conflict_and_uploads_nothing()
    {
        _putFaults.Enqueue(PutFault.AnotherWriterFirst);

        var error = await Assert.ThrowsAsync<WriteConflictException>(() => CreateStore().CommitAsync(Db, Read, WorkFile(), default));

        Assert.Contains("nothing was uploaded", error.Message);
        Assert.Equal("another-writer", _stored!.Lineage[0].CommitId);
        Assert.Equal(2, _versions);
    }

    [Fact]
    public async Task A_put_answered_after_the_deadline_is_settled_by_a_head_and_reported_committed()
    {
        _putFaults.Enqueue(PutFault.LandAndAnswerNever);

        var version = (await CreateStore(TimeSpan.FromSeconds(1)).CommitAsync(Db, Read, WorkFile(), default)).ETag;

        Assert.Equal(new DatabaseETag(_stored!.ETag), version);
        Assert.Equal(2, _versions);
        Assert.Equal("HEAD", _calls[^1]);
    }

    [Fact]
    public async Task A_put_with_no_answer_and_an_unchanged_object_may_still_land_so_the_outcome_is_unknown()
    {
        for (var i = 0; i < 20; i++)
        {
            _putFaults.Enqueue(PutFault.Hang);
        }

        var error = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(
            () => CreateStore(TimeSpan.FromSeconds(1)).CommitAsync(Db, Read, WorkFile(), default));

        Assert.Contains("may have been committed", error.Message);
        Assert.Equal(1, _versions);
    }

    [Fact]
    public async Task Puts_refused_with_slowdown_until_the_deadline_committed_nothing_and_say_so()
    {
        for (var i = 0; i < 1000; i++)
        {
            _putFaults.Enqueue(PutFault.SlowDown);
        }

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(
            () => CreateStore(TimeSpan.FromSeconds(1)).CommitAsync(Db, Read, WorkFile(), default));

        Assert.Contains("SlowDown", error.Message);
        Assert.Equal(1, _versions);
        Assert.DoesNotContain("HEAD", _calls);
    }

    [Fact]
    public async Task A_lost_answer_that_cannot_be_checked_is_reported_as_unknown()
    {
        for (var i = 0; i < 1000; i++)
        {
            _putFaults.Enqueue(PutFault.Hang);
        }

        _headFault = () => new AmazonS3Exception("down", ErrorType.Receiver, "ServiceUnavailable", "r", HttpStatusCode.ServiceUnavailable);

        var error = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(
            () => CreateStore(TimeSpan.FromSeconds(1)).CommitAsync(Db, Read, WorkFile(), default));

        Assert.Contains("checking whether it landed failed too", error.Message);
    }

    [Fact]
    public async Task A_412_after_other_commits_landed_on_top_of_ours_is_our_commit_found_in_the_lineage()
    {
        _putFaults.Enqueue(PutFault.LandAndLoseAnswer);
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns(async (PutObjectRequest request, CancellationToken token) =>
            {
                try
                {
                    return await PutAsync(request, token);
                }
                catch (HttpRequestException)
                {
                    // Before the retry, two more writers commit on top of ours.
                    Apply(_stored!.ETag, "second-writer", _stored.ETag.Trim('"'));
                    Apply(_stored!.ETag, "third-writer", _stored.ETag.Trim('"'));
                    throw;
                }
            });

        var version = (await CreateStore().CommitAsync(Db, Read, WorkFile(), default)).ETag;

        Assert.Equal(new DatabaseETag("\"v2\""), version);
        Assert.Equal(4, _versions);
        Assert.Equal(["third-writer", "second-writer"], _stored!.Lineage.Take(2).Select(l => l.CommitId));
    }

    [Fact]
    public async Task A_412_after_several_other_commits_is_a_conflict_when_the_lineage_names_another_child_of_our_version()
    {
        Apply("\"v1\"", "other-child", "v1");
        Apply(_stored!.ETag, "grandchild", _stored.ETag.Trim('"'));

        await Assert.ThrowsAsync<WriteConflictException>(() => CreateStore().CommitAsync(Db, Read, WorkFile(), default));
        Assert.Equal(3, _versions);
    }

    [Fact]
    public async Task A_412_when_more_commits_landed_than_the_object_remembers_is_unknown_not_a_conflict()
    {
        for (var i = 0; i < StoredCommit.LineageLength + 1; i++)
        {
            Apply(_stored!.ETag, $"writer-{i}", _stored.ETag.Trim('"'));
        }

        await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => CreateStore().CommitAsync(Db, Read, WorkFile(), default));
    }

    [Fact]
    public async Task A_commit_carries_the_lineage_of_the_version_it_read_forward()
    {
        var store = CreateStore();
        var first = (await store.CommitAsync(Db, Read, WorkFile(), default)).ETag;
        await store.CommitAsync(Db, first, WorkFile(), default);

        // This process never saw v1's own record, so the lineage starts at the first commit it made.
        Assert.Equal(["v2", "v1"], _stored!.Lineage.Select(l => l.ParentETag));
    }

    [Theory]
    [InlineData("mine:v1", "\"v2\"", "Landed")]
    [InlineData("theirs:v1", "\"v2\"", "Superseded")]
    [InlineData("theirs:v0", "\"v1\"", "NotYetChanged")]
    [InlineData("third:v2", "\"v3\"", "Unknown")]
    [InlineData("third:v2 mine:v1", "\"v3\"", "Landed")]
    [InlineData("third:v2 theirs:v1", "\"v3\"", "Superseded")]
    [InlineData("", "\"v2\"", "Unknown")]
    public void The_stored_lineage_tells_whether_ours_landed(string lineage, string storedETag, string expected)
    {
        var links = lineage.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':'))
            .Select(p => new CommitLink(p[0], p[1]))
            .ToList();

        var verdict = StoredCommit.Judge(new StoredCommit(storedETag, links), Read, "mine");

        Assert.Equal(Enum.Parse<CommitCheck>(expected), verdict.Check);
        if (verdict.Check == CommitCheck.Landed)
        {
            Assert.Equal(links.Count == 1 ? storedETag : "\"v2\"", verdict.ETag);
        }
    }

    [Fact]
    public void A_create_is_judged_by_the_child_of_no_parent()
    {
        Assert.Equal(CommitCheck.Landed, StoredCommit.Judge(new StoredCommit("\"v1\"", [new CommitLink("mine", StoredCommit.NoParent)]), DatabaseETag.Missing, "mine").Check);
        Assert.Equal(CommitCheck.Superseded, StoredCommit.Judge(new StoredCommit("\"v1\"", [new CommitLink("theirs", StoredCommit.NoParent)]), DatabaseETag.Missing, "mine").Check);
    }

    [Fact]
    public void A_missing_object_is_not_yet_changed_for_a_create_and_superseded_for_an_update()
    {
        Assert.Equal(CommitCheck.NotYetChanged, StoredCommit.Judge(null, DatabaseETag.Missing, "mine").Check);
        Assert.Equal(CommitCheck.Superseded, StoredCommit.Judge(null, Read, "mine").Check);
    }

    [Fact]
    public void A_lineage_survives_its_metadata_form_and_stays_within_its_length()
    {
        var links = Enumerable.Range(0, 30).Select(i => new CommitLink(Guid.NewGuid().ToString("N"), $"{i:x32}")).ToList();

        var extended = StoredCommit.Extend("mine", Read, links);
        var text = StoredCommit.Format(extended);

        Assert.Equal(StoredCommit.LineageLength, extended.Count);
        Assert.Equal(extended, StoredCommit.Parse(text).ToList());
        Assert.True(text.Length < 1500, $"{text.Length} characters of metadata");
    }

    private async Task<PutObjectResponse> PutAsync(PutObjectRequest request, CancellationToken token)
    {
        PutFault? fault;
        lock (_gate)
        {
            fault = _putFaults.Count > 0 ? _putFaults.Dequeue() : null;
        }

        switch (fault)
        {
            case PutFault.SlowDown:
                Record("PUT 503");
                throw new AmazonS3Exception("Please reduce your request rate.", ErrorType.Receiver, "SlowDown", "r", HttpStatusCode.ServiceUnavailable);
            case PutFault.Hang:
                Record("PUT hangs");
                await Task.Delay(Timeout.Infinite, token);
                throw new InvalidOperationException("unreachable");
            case PutFault.AnotherWriterFirst:
                Apply("\"v1\"", "another-writer", "v1");
                break;
        }

        var landed = TryApply(request);
        switch (fault)
        {
            case PutFault.LandAndLoseAnswer when landed is not null:
                Record("PUT lands, answer lost");
                throw new HttpRequestException("The response ended prematurely.", new IOException("connection reset by peer"));
            case PutFault.LandAndAnswerNever when landed is not null:
                Record("PUT lands, answer late");
                await Task.Delay(Timeout.Infinite, token);
                throw new InvalidOperationException("unreachable");
        }

        if (landed is null)
        {
            Record("PUT 412");
            throw new AmazonS3Exception("At least one of the pre-conditions you specified did not hold", ErrorType.Sender, "PreconditionFailed", "r", HttpStatusCode.PreconditionFailed);
        }

        Record("PUT 200");
        return new PutObjectResponse { ETag = landed, HttpStatusCode = HttpStatusCode.OK };
    }

    /// <summary>Applies the PUT if its condition holds; returns the new ETag, or null for a 412.</summary>
    private string? TryApply(PutObjectRequest request)
    {
        lock (_gate)
        {
            var holds = request.IfNoneMatch == "*" ? _stored is null : _stored?.ETag == request.IfMatch;
            if (!holds)
            {
                return null;
            }

            var ancestors = request.Metadata.Keys.Contains("x-amz-meta-" + StoredMetadata.LineageKey)
                ? StoredCommit.Parse(request.Metadata[StoredMetadata.LineageKey]).ToList()
                : [];
            return Apply(request.IfMatch, request.Metadata[StoredMetadata.CommitIdKey], request.Metadata[StoredMetadata.ParentETagKey], ancestors);
        }
    }

    private string Apply(string? basedOn, string commitId, string parent, IReadOnlyList<CommitLink>? ancestors = null)
    {
        lock (_gate)
        {
            Assert.Equal(basedOn is null ? StoredCommit.NoParent : basedOn.Trim('"'), parent);
            _versions++;
            var etag = $"\"v{_versions}\"";
            IEnumerable<CommitLink> older = ancestors ?? _stored?.Lineage ?? [];
            _stored = new StoredCommit(etag, [new CommitLink(commitId, parent), .. older.Take(StoredCommit.LineageLength - 1)]);
            return etag;
        }
    }

    private Task<GetObjectMetadataResponse> HeadAsync()
    {
        Record("HEAD");
        if (_headFault() is { } failure)
        {
            throw failure;
        }

        lock (_gate)
        {
            if (_stored is not { } stored)
            {
                throw new AmazonS3Exception("Not Found", ErrorType.Sender, "NotFound", "r", HttpStatusCode.NotFound);
            }

            var head = new GetObjectMetadataResponse { ETag = stored.ETag };
            head.Metadata.Add(StoredMetadata.CommitIdKey, stored.Lineage[0].CommitId);
            head.Metadata.Add(StoredMetadata.ParentETagKey, stored.Lineage[0].ParentETag);
            head.Metadata.Add(StoredMetadata.LineageKey, StoredCommit.Format(stored.Lineage.Skip(1)));
            return Task.FromResult(head);
        }
    }

    private void Record(string call)
    {
        lock (_gate)
        {
            _calls.Add(call);
        }
    }

    private string WorkFile()
    {
        var path = Path.Combine(_root, "work-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, [1, 2, 3]);
        return path;
    }

    private DatabaseStore CreateStore(TimeSpan? deadline = null) =>
        TestStoreOptions.For("ledger-bucket", deadline ?? TimeSpan.FromSeconds(5)).CreateStore(_s3.Object, Path.Combine(_root, "cache"), TimeProvider.System, TimeSpan.FromMilliseconds(10));
}
