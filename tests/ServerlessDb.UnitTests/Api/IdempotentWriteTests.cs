using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Api;
using ServerlessDb.Engine;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Local;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

/// <summary>
/// Writes sent with an Idempotency-Key apply at most once: the answer is recorded in the same
/// version of the database file as the write, and a retry gets it again and changes nothing.
/// </summary>
public sealed class IdempotentWriteTests : IDisposable
{
    private const string Increment = """["UPDATE counter SET n = n + 1", "SELECT n FROM counter"]""";

    // Stands still unless a test moves it; nothing here waits on it (no conflicts, so no backoff).
    private readonly FakeTimeProvider _clock = new();
    private readonly CountingLock _lock;
    private readonly ApiHarness _api;

    public IdempotentWriteTests()
    {
        _lock = new CountingLock(new NoOpDatabaseLock(TimeProvider.System));
        _api = new ApiHarness(databaseLock: _lock, time: _clock, idempotencyRetention: TimeSpan.FromHours(1));
    }

    public void Dispose() => _api.Dispose();

    private static Dictionary<string, string> Key(string key) => new() { [ServerlessDbApi.IdempotencyKeyHeader] = key };

    private async Task SeedAsync() =>
        Assert.Equal(200, (await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE counter(n INTEGER)", "INSERT INTO counter VALUES (0)"]""")).StatusCode);

    private long Counter()
    {
        using var connection = new SqliteConnection($"Data Source={_api.Store.CurrentPath("default")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = new SqliteCommand("SELECT n FROM counter", connection);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task A_retry_with_the_same_key_gets_the_first_answer_and_changes_nothing()
    {
        await SeedAsync();

        var first = await _api.SendAsync("POST", "/db/request", Increment, headers: Key("inc-1"));
        var commitsAfterFirst = _api.Store.Commits;
        var retry = await _api.SendAsync("POST", "/db/request", Increment, headers: Key("inc-1"));

        Assert.Equal(200, retry.StatusCode);
        Assert.Equal(first.Body, retry.Body);
        Assert.Contains("\"values\":[[1]]", first.Body);
        Assert.Equal("true", retry.Headers[ServerlessDbApi.IdempotentReplayedHeader]);
        Assert.False(first.Headers.ContainsKey(ServerlessDbApi.IdempotentReplayedHeader));
        Assert.Equal(commitsAfterFirst, _api.Store.Commits);
        Assert.Equal(1, Counter());
    }

    [Fact]
    public async Task A_retry_of_a_committed_write_takes_no_lock()
    {
        await SeedAsync();
        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));
        var locksTaken = _lock.Acquired;

        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));

        Assert.Equal(locksTaken, _lock.Acquired);
    }

    [Fact]
    public async Task Different_keys_are_different_writes()
    {
        await SeedAsync();

        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));
        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-2"));
        await _api.SendAsync("POST", "/db/execute", Increment);

        Assert.Equal(3, Counter());
    }

    [Fact]
    public async Task The_answer_is_recorded_in_the_same_version_as_the_write()
    {
        await SeedAsync();

        var first = await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));

        using var connection = new SqliteConnection($"Data Source={_api.Store.CurrentPath("default")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = new SqliteCommand($"SELECT answer FROM {IdempotencyRecords.Table} WHERE key = 'inc-1'", connection);
        Assert.Equal(first.Body, command.ExecuteScalar());
        Assert.Equal(1, Counter());
    }

    [Fact]
    public async Task The_same_key_with_a_different_request_is_refused_with_422_and_changes_nothing()
    {
        await SeedAsync();
        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));
        var etag = _api.Store.CurrentETag("default");

        var reused = await _api.SendAsync("POST", "/db/execute", """["UPDATE counter SET n = n + 100"]""", headers: Key("inc-1"));

        Assert.Equal(422, reused.StatusCode);
        Assert.Contains("Idempotency-Key 'inc-1' was already used for a different request", reused.Body);
        Assert.Equal(etag, _api.Store.CurrentETag("default"));
    }

    [Fact]
    public async Task Parameters_are_part_of_the_request_a_key_stands_for()
    {
        await SeedAsync();
        await _api.SendAsync("POST", "/db/execute", """[["UPDATE counter SET n = n + ?", 1]]""", headers: Key("add"));

        var asText = await _api.SendAsync("POST", "/db/execute", """[["UPDATE counter SET n = n + ?", "1"]]""", headers: Key("add"));

        Assert.Equal(422, asText.StatusCode);
    }

    [Fact]
    public async Task A_key_older_than_the_retention_window_is_forgotten_and_its_record_deleted()
    {
        await SeedAsync();
        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("old"));
        _clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        var again = await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("another"));
        var old = await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("old"));

        Assert.False(again.Headers.ContainsKey(ServerlessDbApi.IdempotentReplayedHeader));
        Assert.False(old.Headers.ContainsKey(ServerlessDbApi.IdempotentReplayedHeader));
        Assert.Equal(3, Counter());
    }

    [Fact]
    public async Task A_statement_error_is_an_answer_too_and_is_replayed()
    {
        await SeedAsync();

        var first = await _api.SendAsync("POST", "/db/execute", """["UPDATE counter SET n = n + 1", "INSERT INTO missing VALUES (1)"]""", headers: Key("k"));
        var retry = await _api.SendAsync("POST", "/db/execute", """["UPDATE counter SET n = n + 1", "INSERT INTO missing VALUES (1)"]""", headers: Key("k"));

        Assert.Contains("no such table: missing", first.Body);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(1, Counter());
    }

    [Theory]
    [InlineData("")]
    [InlineData("x129")]
    public async Task A_key_that_is_empty_or_too_long_is_a_400(string key)
    {
        await SeedAsync();
        var value = key == "x129" ? new string('x', 129) : key;

        var response = await _api.SendAsync("POST", "/db/execute", Increment, headers: Key(value));

        Assert.Equal(400, response.StatusCode);
        Assert.Contains("Idempotency-Key", response.Body);
        Assert.Equal(0, Counter());
    }

    [Fact]
    public async Task A_key_of_128_characters_of_any_kind_is_accepted()
    {
        await SeedAsync();
        var key = string.Concat(Enumerable.Repeat("é ;'\"", 26))[..128];

        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key(key));
        var retry = await _api.SendAsync("POST", "/db/execute", Increment, headers: Key(key));

        Assert.Equal("true", retry.Headers[ServerlessDbApi.IdempotentReplayedHeader]);
        Assert.Equal(1, Counter());
    }

    [Theory]
    [InlineData("DELETE FROM _serverlessdb_idempotency")]
    [InlineData("UPDATE _serverlessdb_idempotency SET answer = 'forged'")]
    [InlineData("DROP TABLE _serverlessdb_idempotency")]
    [InlineData("INSERT INTO _serverlessdb_idempotency VALUES ('k', 'f', 'forged', 0)")]
    [InlineData("CREATE TABLE _serverlessdb_mine(a)")]
    [InlineData("CREATE TRIGGER t AFTER INSERT ON _serverlessdb_idempotency BEGIN UPDATE counter SET n = 0; END")]
    [InlineData("ALTER TABLE _serverlessdb_idempotency RENAME TO stolen")]
    public async Task User_sql_cannot_change_the_records(string sql)
    {
        await SeedAsync();
        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));
        var etag = _api.Store.CurrentETag("default");

        var refused = await _api.SendAsync("POST", "/db/execute", $"[\"{sql.Replace("\"", "\\\"")}\"]");

        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("belong to the service", refused.Body);
        Assert.Equal(etag, _api.Store.CurrentETag("default"));
    }

    [Fact]
    public async Task A_user_trigger_that_would_change_the_records_makes_its_statement_refused_when_it_fires()
    {
        await SeedAsync();
        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));
        await _api.SendAsync("POST", "/db/execute", """["CREATE TRIGGER wipe AFTER UPDATE ON counter BEGIN DELETE FROM _serverlessdb_idempotency; END"]""");
        var etag = _api.Store.CurrentETag("default");

        var refused = await _api.SendAsync("POST", "/db/execute", """["UPDATE counter SET n = n + 1"]""");
        var retry = await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));

        Assert.Equal(400, refused.StatusCode);
        Assert.Equal(etag, _api.Store.CurrentETag("default"));
        Assert.Equal("true", retry.Headers[ServerlessDbApi.IdempotentReplayedHeader]);
    }

    [Fact]
    public async Task User_sql_can_read_the_records_and_vacuum_keeps_them()
    {
        await SeedAsync();
        await _api.SendAsync("POST", "/db/execute", Increment, headers: Key("inc-1"));

        var vacuum = await _api.SendAsync("POST", "/db/execute", """["VACUUM"]""");
        var read = await _api.SendAsync("GET", "/db/query", query: "q=" + Uri.EscapeDataString($"SELECT key FROM {IdempotencyRecords.Table}"));

        Assert.Equal(200, vacuum.StatusCode);
        Assert.DoesNotContain("error", vacuum.Body);
        Assert.Contains("\"values\":[[\"inc-1\"]]", read.Body);
    }

    [Fact]
    public async Task A_read_only_request_with_a_key_records_nothing()
    {
        await SeedAsync();
        var commits = _api.Store.Commits;

        await _api.SendAsync("POST", "/db/request", """["SELECT n FROM counter"]""", headers: Key("read"));

        Assert.Equal(commits, _api.Store.Commits);
    }

    private sealed class CountingLock(IDatabaseLock inner) : IDatabaseLock
    {
        private int _acquired;

        public int Acquired => _acquired;

        public Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _acquired);
            return inner.AcquireAsync(database, holder, cancellationToken);
        }

        public Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken) => inner.ReleaseAsync(lease, cancellationToken);
    }
}
