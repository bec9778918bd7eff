using ServerlessDb.Errors;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// A store with S3's semantics in a temporary folder: immutable version files, conditional commits.
/// <see cref="BeforeCommit"/> lets a test slip in a competing writer.
/// </summary>
public sealed class VersionedTestStore : IDatabaseStore, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("serverlessdb-store-").FullName;
    private readonly Dictionary<string, (string ETag, string Path)> _current = new();
    private readonly Lock _gate = new();
    private int _version;

    public Action<string>? BeforeCommit { get; set; }

    /// <summary>How long each read takes; the wait honours cancellation, as an S3 call does.</summary>
    public TimeSpan ReadDelay { get; set; }

    public int Commits { get; private set; }

    /// <summary>The staleness each read allowed, in order.</summary>
    public List<TimeSpan?> ReadStaleness { get; } = [];

    public int ConflictsRaised { get; private set; }

    public string? CurrentETag(string database)
    {
        lock (_gate)
        {
            return _current.TryGetValue(database, out var entry) ? entry.ETag : null;
        }
    }

    public string? CurrentPath(string database)
    {
        lock (_gate)
        {
            return _current.TryGetValue(database, out var entry) ? entry.Path : null;
        }
    }

    public async Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ReadStaleness.Add(maxStaleness);
        }

        if (ReadDelay > TimeSpan.Zero)
        {
            await Task.Delay(ReadDelay, cancellationToken);
        }

        lock (_gate)
        {
            if (_current.TryGetValue(database, out var entry))
            {
                return new DatabaseSnapshot(database, new StoredVersion(entry.ETag), entry.Path, release: null);
            }
        }

        var empty = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".empty");
        await File.WriteAllBytesAsync(empty, [], cancellationToken);
        return new DatabaseSnapshot(database, StoredVersion.Missing, empty, release: null);
    }

    public Task<StoredVersion> CommitAsync(string database, StoredVersion basedOn, string filePath, CancellationToken cancellationToken)
    {
        BeforeCommit?.Invoke(database);
        lock (_gate)
        {
            var current = _current.TryGetValue(database, out var entry) ? entry.ETag : null;
            if (current != basedOn.ETag)
            {
                ConflictsRaised++;
                throw new WriteConflictException($"{database} changed: expected {basedOn}, found {current ?? "(none)"}");
            }

            var etag = $"\"v{++_version}\"";
            var path = Path.Combine(_directory, $"{database}.{_version}.sqlite");
            File.Move(filePath, path);
            _current[database] = (etag, path);
            Commits++;
            return Task.FromResult(new StoredVersion(etag));
        }
    }

    /// <summary>Commits a version directly, as another process would.</summary>
    public void CommitFrom(string database, string sourceFile)
    {
        var copy = Path.Combine(_directory, Guid.NewGuid().ToString("N"));
        File.Copy(sourceFile, copy);
        CommitAsync(database, new StoredVersion(CurrentETag(database)), copy, CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
