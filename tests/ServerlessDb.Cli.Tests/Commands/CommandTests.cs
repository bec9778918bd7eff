using System.Text.Json;
using ServerlessDb.Cli.Tests.Infrastructure;

namespace ServerlessDb.Cli.Tests.Commands;

/// <summary>The commands for scripts against a real local server: what they print, and exit codes that say what happened.</summary>
public sealed class CommandTests(LocalServerFixture fixture) : IClassFixture<LocalServerFixture>
{
    [Fact]
    public async Task Execute_then_query_prints_the_rows_as_an_aligned_table()
    {
        var db = LocalServerFixture.NewDatabase();
        var created = await fixture.RunAsync(db, "execute", "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)");
        var inserted = await fixture.RunAsync(db, "execute", "INSERT INTO foo(name, age) VALUES(?, ?)", "-p", "fiona", "-p", "20");
        var queried = await fixture.RunAsync(db, "query", "SELECT * FROM foo");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("1 row affected\n", inserted.Stdout);
        Assert.True(queried.ExitCode == 0, queried.ToString());
        Assert.Equal(
            """
            +----+-------+-----+
            | id | name  | age |
            +----+-------+-----+
            | 1  | fiona | 20  |
            +----+-------+-----+

            """,
            queried.Stdout);
    }

    [Fact]
    public async Task Json_prints_the_apis_answer_and_parameters_bind_as_json_values()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.RunAsync(db, "execute", "CREATE TABLE f (n INTEGER, t TEXT, b BLOB)");
        var inserted = await fixture.RunAsync(db, "execute", "INSERT INTO f VALUES(?, ?, ?)", "-p", "42", "-p", "\"42\"", "-p", "[104,105]");
        var queried = await fixture.RunAsync(db, "query", "SELECT n, typeof(t), b FROM f", "--json");

        Assert.True(inserted.ExitCode == 0, inserted.ToString());
        using var answer = JsonDocument.Parse(queried.Stdout);
        Assert.Equal("""[[42,"text","aGk="]]""", answer.RootElement.GetProperty("results")[0].GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task A_statement_error_prints_its_message_without_a_stack_trace_and_exits_1()
    {
        var result = await fixture.RunAsync(LocalServerFixture.NewDatabase(), "query", "SELECT * FROM missing");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Error: no such table: missing\n", result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task A_write_sent_as_a_query_is_refused_with_exit_code_1()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.RunAsync(db, "execute", "CREATE TABLE t (a)");

        var result = await fixture.RunAsync(db, "query", "INSERT INTO t VALUES (1)");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("attempt to change database via query operation", result.Stderr);
    }

    [Fact]
    public async Task An_api_nobody_answers_is_a_network_error_with_exit_code_4()
    {
        var result = await CliRun.RunAsync(["--url", $"http://127.0.0.1:{FreePort()}", "query", "SELECT 1"]);

        Assert.Equal(4, result.ExitCode);
        Assert.StartsWith("serverlessdb: Cannot reach http://127.0.0.1:", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task A_wrong_command_line_exits_2()
    {
        var unknown = await CliRun.RunAsync(["frobnicate"]);
        var badUrl = await CliRun.RunAsync(["--url", "ftp://example", "query", "SELECT 1"]);

        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal(2, badUrl.ExitCode);
        Assert.Contains("--url must be an absolute http or https URL", badUrl.Stderr);
    }

    [Fact]
    public async Task Signing_without_credentials_is_an_auth_error_with_exit_code_3()
    {
        var result = await CliRun.RunAsync(["--url", fixture.Server.Address, "--sign", "always", "--region", "us-east-1", "query", "SELECT 1"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("No AWS credentials to sign with", result.Stderr);
    }

    [Fact]
    public async Task A_backup_loads_back_into_another_database_as_a_file_and_as_a_dump()
    {
        var source = LocalServerFixture.NewDatabase();
        var fromFile = LocalServerFixture.NewDatabase();
        var fromDump = LocalServerFixture.NewDatabase();
        await fixture.ShellAsync(source, "CREATE TABLE foo (name TEXT); INSERT INTO foo VALUES ('fiona'), ('declan');");
        var folder = Directory.CreateTempSubdirectory("serverlessdb-cli-backup-").FullName;
        try
        {
            var file = Path.Combine(folder, "source.sqlite");
            var dump = Path.Combine(folder, "source.sql");
            var backup = await fixture.RunAsync(source, "backup", "-o", file);
            var sqlBackup = await fixture.RunAsync(source, "backup", "-o", dump, "--sql");
            var loadFile = await fixture.RunAsync(fromFile, "load", file);
            var loadDump = await fixture.RunAsync(fromDump, "load", dump, "--json");

            Assert.True(backup.ExitCode == 0, backup.ToString());
            Assert.Equal("SQLite format 3\0", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(file), 0, 16));
            Assert.StartsWith("PRAGMA foreign_keys=OFF;", File.ReadAllText(dump));
            Assert.True(sqlBackup.ExitCode == 0, sqlBackup.ToString());
            Assert.True(loadFile.ExitCode == 0, loadFile.ToString());
            Assert.Matches("^loaded sqlite into 't[0-9a-f]+': 8.0 KiB, 1 tables, version ", loadFile.Stdout);
            Assert.Equal("sql", JsonDocument.Parse(loadDump.Stdout).RootElement.GetProperty("loaded").GetProperty("format").GetString());
            foreach (var db in new[] { fromFile, fromDump })
            {
                var rows = await fixture.RunAsync(db, "query", "SELECT name FROM foo ORDER BY name", "--mode", "csv");
                Assert.Equal("name\ndeclan\nfiona\n", rows.Stdout);
            }

            Assert.Empty(Directory.GetFiles(folder, "*.partial"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Versions_list_the_history_and_a_query_at_an_old_version_and_a_restore_see_its_rows()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.ShellAsync(db, "CREATE TABLE foo (name TEXT); INSERT INTO foo VALUES ('fiona');");
        await fixture.RunAsync(db, "execute", "INSERT INTO foo VALUES ('declan')");

        var versions = await fixture.RunAsync(db, "versions", "--json");
        var list = JsonDocument.Parse(versions.Stdout).RootElement.GetProperty("versions");
        var first = list[1].GetProperty("id").GetString()!;
        var past = await fixture.RunAsync(db, "query", "SELECT name FROM foo", "--at", first, "--mode", "csv");
        var pastByTime = await fixture.RunAsync(db, "query", "SELECT count(*) AS n FROM foo", "--at", list[1].GetProperty("time").GetString()!, "--mode", "csv");
        var restored = await fixture.RunAsync(db, "restore", first);
        var now = await fixture.RunAsync(db, "query", "SELECT name FROM foo", "--mode", "csv");

        Assert.Equal(2, list.GetArrayLength());
        Assert.True(list[0].GetProperty("current").GetBoolean());
        Assert.Equal("name\nfiona\n", past.Stdout);
        Assert.Equal("n\n1\n", pastByTime.Stdout);
        Assert.True(restored.ExitCode == 0, restored.ToString());
        Assert.StartsWith($"restored {first} as the new version ", restored.Stdout);
        Assert.Equal("name\nfiona\n", now.Stdout);
    }

    [Fact]
    public async Task A_version_the_store_does_not_keep_is_a_service_error_with_exit_code_5()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.RunAsync(db, "execute", "CREATE TABLE t (a)");

        var result = await fixture.RunAsync(db, "restore", "9-nosuchversion");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("answered 404", result.Stderr);
    }

    [Fact]
    public async Task Databases_lists_the_databases_written()
    {
        var db = LocalServerFixture.NewDatabase();
        await fixture.RunAsync(db, "execute", "CREATE TABLE t (a)");

        var result = await fixture.RunAsync("default", "databases", "--json");

        Assert.Contains(
            JsonDocument.Parse(result.Stdout).RootElement.GetProperty("databases").EnumerateArray(),
            entry => entry.GetProperty("name").GetString() == db && entry.GetProperty("size").GetInt64() > 0);
    }

    [Fact]
    public async Task Stack_reads_the_url_from_the_stacks_api_url_output_with_the_aws_cli()
    {
        var bin = Directory.CreateTempSubdirectory("serverlessdb-fake-aws-").FullName;
        try
        {
            // A stand-in aws CLI: answers describe-stacks for stack "shop-stack" with the local server's URL, and records its arguments.
            var aws = Path.Combine(bin, "aws");
            await File.WriteAllTextAsync(aws, $"""
                #!/bin/sh
                echo "$@" > "{bin}/arguments"
                case "$*" in *"--stack-name shop-stack"*) echo "{fixture.Server.Address}"; exit 0;; esac
                echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id $4 does not exist" >&2
                exit 254
                """);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(aws, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            var path = new Dictionary<string, string?> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") };

            var found = await CliRun.RunAsync(["--stack", "shop-stack", "--region", "eu-west-3", "query", "SELECT 1 AS one", "--mode", "csv"], environment: path);
            var arguments = await File.ReadAllTextAsync(Path.Combine(bin, "arguments"));
            var missing = await CliRun.RunAsync(["--stack", "no-stack", "query", "SELECT 1"], environment: path);

            Assert.True(found.ExitCode == 0, found.ToString());
            Assert.Equal("one\n1\n", found.Stdout);
            Assert.Equal("cloudformation describe-stacks --stack-name shop-stack --query Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue --output text --region eu-west-3\n", arguments);
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("Cannot read the ApiUrl output of stack 'no-stack': An error occurred (ValidationError)", missing.Stderr);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
