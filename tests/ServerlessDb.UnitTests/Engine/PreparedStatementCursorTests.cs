using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.UnitTests.Support;
using SQLitePCL;

namespace ServerlessDb.UnitTests.Engine;

public sealed class PreparedStatementCursorTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private readonly TempDatabase _database = new("CREATE TABLE t(a)");

    public void Dispose() => _database.Dispose();

    private async Task<List<string?>> WalkAsync(string sql) =>
        await Task.Run(() =>
        {
            using var session = SqliteSession.OpenReadOnly(_database.FilePath);
            var cursor = new PreparedStatementCursor(session, sql);
            var seen = new List<string?>();
            while (cursor.TryPrepareNext(out var prepared, out var error))
            {
                using (prepared)
                {
                    seen.Add(error ?? raw.sqlite3_sql(prepared).utf8_to_string());
                }
            }

            return seen;
        }).WaitAsync(Bound);

    [Theory]
    [InlineData("SELECT 1\0")]
    [InlineData("SELECT 1;\0SELECT 2")]
    [InlineData("SELECT 1; \0 ")]
    [InlineData("\0")]
    [InlineData("-- comment\n\0 SELECT 1")]
    public async Task Sql_with_a_nul_character_is_one_error_and_no_part_of_it_is_prepared(string sql)
    {
        var seen = await WalkAsync(sql);

        Assert.Equal([RequestMessages.NulInSql], seen);
    }

    [Fact]
    public async Task Statements_and_comments_are_walked_in_order()
    {
        var seen = await WalkAsync("SELECT 1; /* c */ ; SELECT 2; -- end");

        Assert.Equal(["SELECT 1;", " /* c */ ; SELECT 2;"], seen);
    }
}
