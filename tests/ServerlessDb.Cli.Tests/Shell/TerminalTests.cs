using ServerlessDb.Cli.Tests.Infrastructure;

namespace ServerlessDb.Cli.Tests.Shell;

/// <summary>What only a terminal shows: the prompt, line editing and history, and progress bars (which piped output never gets).</summary>
public sealed class TerminalTests(LocalServerFixture fixture) : IClassFixture<LocalServerFixture>
{
    private const string UpArrow = "\u001b[A";

    [Fact]
    public async Task The_shell_prompts_recalls_the_last_statement_with_the_up_arrow_and_keeps_the_history_in_a_file()
    {
        var history = Path.Combine(Path.GetTempPath(), $"serverlessdb-history-{Guid.NewGuid():N}");
        var db = LocalServerFixture.NewDatabase();
        try
        {
            using var terminal = Terminal.Start(["--url", fixture.Server.Address, "--db", db], new Dictionary<string, string?> { ["SERVERLESSDB_HISTORY"] = history });
            await terminal.WaitForAsync($"{db}> ");
            await terminal.TypeAsync("SELECT 6 *\r");
            await terminal.WaitForAsync("   ...> ");
            await terminal.TypeAsync("7 AS answer;\r");
            await terminal.WaitForAsync("| 42     |");
            await terminal.WaitForAsync($"{db}> ", times: 2);
            await terminal.TypeAsync(UpArrow + "\r");
            await terminal.WaitForAsync("| 42     |", times: 2);
            await terminal.WaitForAsync($"{db}> ", times: 3);
            await terminal.TypeAsync(".exit\r");

            Assert.Equal(0, await terminal.WaitForExitAsync());
            Assert.Contains("serverlessdb shell: " + fixture.Server.Address, terminal.Screen);
            Assert.Equal(["SELECT 6 * 7 AS answer;", ".exit"], await File.ReadAllLinesAsync(history));
        }
        finally
        {
            File.Delete(history);
        }
    }

    [Fact]
    public async Task Ctrl_c_drops_the_line_being_typed_and_stops_a_running_statement_but_not_the_shell()
    {
        var db = LocalServerFixture.NewDatabase();
        using var terminal = Terminal.Start(["--url", fixture.Server.Address, "--db", db]);
        await terminal.WaitForAsync($"{db}> ");
        await terminal.TypeAsync("SELECT 'dropped' AS never");
        await terminal.TypeAsync("\u0003");
        await terminal.WaitForAsync($"{db}> ", times: 2);
        await terminal.TypeAsync("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40000000) SELECT count(*) FROM c;\r");
        // Interrupted well before it ends; the server finishes it on its own (the deployed API would too, within its deadline).
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await terminal.TypeAsync("\u0003");
        await terminal.WaitForAsync("Error: interrupted");
        await terminal.WaitForAsync($"{db}> ", times: 3);
        await terminal.TypeAsync("SELECT 'still here' AS shell;\r");
        await terminal.WaitForAsync("| still here |");
        await terminal.TypeAsync(".exit\r");

        Assert.Equal(0, await terminal.WaitForExitAsync());
        Assert.DoesNotContain("| dropped", terminal.Screen);
    }

    [Fact]
    public async Task A_restore_at_a_terminal_says_what_it_will_do_and_does_nothing_unless_told_yes()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.ShellAsync(db, "CREATE TABLE t (a); INSERT INTO t VALUES (1);");
        await fixture.ShellAsync(db, "INSERT INTO t VALUES (2);");
        var first = System.Text.Json.JsonDocument.Parse((await fixture.RunAsync(db, "versions", "--json")).Stdout).RootElement.GetProperty("versions")[1].GetProperty("id").GetString()!;
        using var terminal = Terminal.Start(["--url", fixture.Server.Address, "--db", db, "--mode", "csv"]);
        await terminal.WaitForAsync($"{db}> ");

        await terminal.TypeAsync($".restore {first}\r");
        await terminal.WaitForAsync("the version now current stays in the history and can be restored back. [y/N] ");
        await terminal.TypeAsync("\r");
        await terminal.WaitForAsync("Not restored.");
        await terminal.TypeAsync($".restore {first}\r");
        await terminal.WaitForAsync("[y/N] ", times: 2);
        await terminal.TypeAsync("y\r");
        await terminal.WaitForAsync($"restored {first} as the new version ");
        await terminal.TypeAsync("SELECT count(*) AS n FROM t;\r");
        await terminal.WaitForAsync("n\r\n1\r\n");
        await terminal.TypeAsync(".exit\r");

        Assert.Equal(0, await terminal.WaitForExitAsync());
        Assert.Contains($"Restore database '{db}' to version {first}? Its content becomes a new current version", terminal.Screen);
    }

    [Fact]
    public async Task A_backup_draws_a_progress_bar_at_a_terminal_and_nothing_when_piped()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.ShellAsync(db, "CREATE TABLE t (b BLOB); INSERT INTO t VALUES (randomblob(2000000));");
        var folder = Directory.CreateTempSubdirectory("serverlessdb-progress-").FullName;
        try
        {
            using var terminal = Terminal.Start(["--url", fixture.Server.Address, "--db", db, "backup", "-o", Path.Combine(folder, "tty.sqlite")]);
            Assert.Equal(0, await terminal.WaitForExitAsync());
            var piped = await fixture.RunAsync(db, "backup", "-o", Path.Combine(folder, "piped.sqlite"));

            Assert.Contains("backing up [", terminal.Screen);
            Assert.Contains("] 100% 1.9 MiB/1.9 MiB", terminal.Screen);
            Assert.Contains("\r\u001b[2K1.9 MiB written to ", terminal.Screen);
            Assert.Equal(0, piped.ExitCode);
            Assert.Equal("", piped.Stderr);
            Assert.Equal($"1.9 MiB written to {Path.Combine(folder, "piped.sqlite")}\n", piped.Stdout);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
