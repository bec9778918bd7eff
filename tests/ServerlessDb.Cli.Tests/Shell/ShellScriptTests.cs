using ServerlessDb.Cli.Tests.Infrastructure;

namespace ServerlessDb.Cli.Tests.Shell;

/// <summary>The shell reading a script on stdin (as <c>sqlite3 db &lt; script.sql</c>), against a real local server.</summary>
public sealed class ShellScriptTests(LocalServerFixture fixture) : IClassFixture<LocalServerFixture>
{
    [Fact]
    public async Task Statements_may_span_lines_and_run_when_their_semicolon_comes()
    {
        var result = await fixture.ShellAsync(LocalServerFixture.NewDatabase(), """
            CREATE TABLE foo (
              id INTEGER PRIMARY KEY,
              name TEXT -- a comment; not the end
            );
            INSERT INTO foo(name) VALUES ('semi;colon'), ('fiona');
            SELECT * FROM foo
            ORDER BY id;
            """);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            """
            2 rows affected
            +----+------------+
            | id | name       |
            +----+------------+
            | 1  | semi;colon |
            | 2  | fiona      |
            +----+------------+

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Dot_commands_show_tables_schema_and_indexes_and_switch_modes()
    {
        var result = await fixture.ShellAsync(LocalServerFixture.NewDatabase(), """
            CREATE TABLE b (x INTEGER);
            CREATE TABLE a (y TEXT);
            CREATE INDEX a_y ON a(y);
            INSERT INTO a VALUES ('one, two'), ('three');
            .tables
            .schema a
            .indexes
            .mode csv
            SELECT y FROM a ORDER BY y;
            .mode json
            SELECT y FROM a ORDER BY y;
            .mode line
            SELECT y, 1 AS n FROM a ORDER BY y LIMIT 1;
            """);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            """
            2 rows affected
            a
            b
            CREATE TABLE a (y TEXT);
            CREATE INDEX a_y ON a(y);
            a_y
            y
            "one, two"
            three
            [{"y":"one, two"},
            {"y":"three"}]
            y = one, two
            n = 1

            """,
            result.Stdout);
    }

    [Fact]
    public async Task A_failing_statement_prints_its_error_the_script_goes_on_and_the_exit_code_is_1()
    {
        var result = await fixture.ShellAsync(LocalServerFixture.NewDatabase(), "SELEC 1;\nSELECT 2 AS two;\n.nonsense\n");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Error: near \"SELEC\": syntax error\nError: Unknown command '.nonsense'. \".help\" lists the commands.\n", result.Stderr);
        Assert.Contains("| two |", result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Bail_stops_at_the_first_error()
    {
        var result = await fixture.ShellAsync(LocalServerFixture.NewDatabase(), "SELEC 1;\nSELECT 2 AS two;\n", "shell", "--bail");

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("two", result.Stdout);
    }

    [Fact]
    public async Task At_reads_a_past_version_until_at_now_and_restore_brings_it_back()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.ShellAsync(db, "CREATE TABLE foo (name TEXT); INSERT INTO foo VALUES ('fiona');");
        await fixture.ShellAsync(db, "INSERT INTO foo VALUES ('declan');");
        var versions = System.Text.Json.JsonDocument.Parse((await fixture.RunAsync(db, "versions", "--json")).Stdout).RootElement.GetProperty("versions");
        var first = versions[1].GetProperty("id").GetString()!;

        var result = await fixture.ShellAsync(db, $"""
            .mode csv
            .at {first}
            SELECT count(*) AS n FROM foo;
            INSERT INTO foo VALUES ('refused');
            .at now
            SELECT count(*) AS n FROM foo;
            .restore {first}
            SELECT count(*) AS n FROM foo;
            """);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"reading version {first} (read-only; \".at now\" goes back)\nn\n1\nn\n2\nrestored {first} as the new version ", result.Stdout[..result.Stdout.IndexOf("as the new version ", StringComparison.Ordinal)] + "as the new version ");
        Assert.EndsWith("n\n1\n", result.Stdout);
        Assert.Contains("Error: ", result.Stderr);
    }

    [Fact]
    public async Task Use_switches_database_and_databases_lists_them()
    {
        var first = LocalServerFixture.NewDatabase();
        var second = LocalServerFixture.NewDatabase();
        var result = await fixture.ShellAsync(first, $"""
            CREATE TABLE one (a);
            .use {second}
            CREATE TABLE two (a);
            .tables
            .databases
            """);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\ntwo\n", "\n" + result.Stdout);
        Assert.DoesNotContain("\none\n", "\n" + result.Stdout);
        Assert.Contains($"| {first} ", result.Stdout);
        Assert.Contains($"| {second} ", result.Stdout);
    }

    [Fact]
    public async Task Dump_backup_and_load_move_a_database_and_the_timer_prints_run_times()
    {
        var source = LocalServerFixture.NewDatabase();
        var target = LocalServerFixture.NewDatabase();
        var folder = Directory.CreateTempSubdirectory("serverlessdb-shell-").FullName;
        try
        {
            var file = Path.Combine(folder, "copy.sqlite");
            var dumped = await fixture.ShellAsync(source, $"""
                CREATE TABLE foo (name TEXT);
                INSERT INTO foo VALUES ('fiona');
                .dump
                .backup {file}
                """);
            var loaded = await fixture.ShellAsync(target, $"""
                .load {file}
                .timer on
                .consistency strong
                SELECT name FROM foo;
                """);

            Assert.True(dumped.ExitCode == 0, dumped.ToString());
            Assert.Contains("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE foo (name TEXT);\nINSERT INTO \"foo\" VALUES('fiona');\nCOMMIT;\n", dumped.Stdout);
            Assert.Contains($"8.0 KiB written to {file}", dumped.Stdout);
            Assert.True(loaded.ExitCode == 0, loaded.ToString());
            Assert.StartsWith($"loaded sqlite into '{target}': 8.0 KiB, 1 tables\n", loaded.Stdout);
            Assert.Contains("| fiona |", loaded.Stdout);
            Assert.Matches(@"Run Time: real \d+\.\d{3}\n$", loaded.Stdout);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
