using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

/// <summary>
/// Arbitrary SQL text through the prepare walk and the classifier on a real SQLite database: the walk
/// always ends, advancing at every step, and the only exception is the sandbox's refusal.
/// </summary>
public sealed class SqlTextEnginePropertyTests : IDisposable
{
    private readonly TempDatabase _database = new("CREATE TABLE x(a, b)", "CREATE TABLE t(a)", "INSERT INTO t VALUES (1)");

    public void Dispose() => _database.Dispose();

    [Property(MaxTest = 500)]
    public Property The_prepare_walk_ends_and_only_the_sandbox_throws() =>
        Prop.ForAll(HostileText.SqlLike, sql => Bounded.Run(() => Walk(sql), "PreparedStatementCursor"));

    [Property(MaxTest = 500)]
    public Property Classification_ends_and_only_the_sandbox_throws() =>
        Prop.ForAll(HostileText.SqlLike, sql => Bounded.Run(() => Classify(sql), "StatementClassifier"));

    private Property Walk(string sql)
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        var cursor = new PreparedStatementCursor(session, sql);
        var steps = 0;
        var byteLength = System.Text.Encoding.UTF8.GetByteCount(sql);
        try
        {
            while (cursor.TryPrepareNext(out var prepared, out var error))
            {
                prepared?.Dispose();
                steps++;
                if (steps > byteLength + 1)
                {
                    return false.Label($"{steps} statements from {byteLength} bytes: the walk does not advance");
                }

                if (error is not null)
                {
                    break;
                }
            }
        }
        catch (StatementRefusedException)
        {
        }

        return true.ToProperty();
    }

    private Property Classify(string sql)
    {
        var statement = new Statement(sql);
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        try
        {
            var classification = StatementClassifier.ClassifyAll(session, [statement]).Single();
            if (sql.Contains('\0', StringComparison.Ordinal))
            {
                return (classification == new Classification(StatementKind.Unprepared, RequestMessages.NulInSql))
                    .Label($"SQL with a NUL classified as {classification.Kind} with error {classification.PrepareError}");
            }

            return (classification.Kind == StatementKind.Unprepared) == (classification.PrepareError is not null)
                ? true.ToProperty()
                : false.Label($"{classification.Kind} with error {classification.PrepareError}");
        }
        catch (StatementRefusedException)
        {
            return true.ToProperty();
        }
    }
}
