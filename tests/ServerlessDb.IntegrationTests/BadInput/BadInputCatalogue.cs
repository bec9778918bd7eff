using System.Text;
using QueryRunnerEvents = ServerlessDb.IntegrationTests.Infrastructure.ApiGatewayEvents;

namespace ServerlessDb.IntegrationTests.BadInput;

/// <summary>
/// The bad-input catalogue, shared by the Lambda handler on moto and the local server over HTTP. Every
/// case runs against a database "default" holding <c>t(a)</c> with one row, and must leave it
/// byte-identical. Messages are the ones the README documents.
/// </summary>
public static class BadInputCatalogue
{
    public const string Database = "default";

    public static readonly string[] Setup = ["CREATE TABLE t(a)", "INSERT INTO t VALUES ('kept')"];

    private const string Json = "application/json";
    private const string Text = "text/plain";
    private const string Binary = "application/octet-stream";
    private const string Nul = "SQL contains a NUL character";
    private const string InvalidText = "invalid text in";
    private const string Attach = "ATTACH, DETACH and VACUUM INTO are not allowed";
    private const string TransactionControl = "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is not allowed";
    private const string Bomb = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c)";

    public static IReadOnlyList<BadInputCase> Cases { get; } =
    [
        // Malformed bodies: 400, kept, as rqlite answers a body it cannot parse; sizes and counts are our own limits (400, 413).
        Post("body not json", "/db/execute", "not json", 400, "invalid JSON body"),
        Post("body empty", "/db/execute", "", 400, "invalid JSON body"),
        Post("body truncated", "/db/execute", "[\"SELECT 1\"", 400, "invalid JSON body"),
        Post("body with trailing garbage", "/db/query", "[\"SELECT 1\"] x", 400, "invalid JSON body"),
        Post("body nested 10000 deep", "/db/request", new string('[', 10_000) + new string(']', 10_000), 400, "invalid JSON body"),
        Post("body an object", "/db/execute", """{"sql": "SELECT 1"}""", 400, "invalid request"),
        Post("body a string", "/db/execute", "\"SELECT 1\"", 400, "invalid request"),
        Post("body a number", "/db/query", "42", 400, "invalid request"),
        Post("body an empty array", "/db/execute", "[]", 400, "no statements"),
        Post("statement an empty array", "/db/execute", "[[]]", 400, "no statements"),
        Post("statement a number", "/db/execute", "[42]", 400, "invalid request"),
        Post("statement null", "/db/execute", "[null]", 400, "invalid request"),
        Post("statement sql a number", "/db/execute", "[[42, 1]]", 400, "invalid request"),
        Post("too many statements", "/db/query", "[" + string.Join(",", Enumerable.Repeat("\"SELECT 1\"", 1001)) + "]", 400, "too many statements"),
        Post("request over MAX_REQUEST_BYTES", "/db/execute", "[\"SELECT '" + new string('x', 1024 * 1024) + "'\"]", 413, "request too large"),
        Post("text body only whitespace", "/db/execute", " \n\t ", 400, "no statements", Text),
        Raw("text body invalid UTF-8", "POST", "/db/execute", null, Text, [0x53, 0x45, 0xff, 0xfe], 400, "request body is not valid UTF-8"),
        Raw("json string invalid UTF-8", "POST", "/db/query", null, Json, [.. "[\"SELECT '"u8, 0xff, .. "'\"]"u8], 400, InvalidText),
        Raw("json string overlong UTF-8", "POST", "/db/query", null, Json, [.. "[\"SELECT '"u8, 0xc0, 0xaf, .. "'\"]"u8], 400, InvalidText),
        Raw("json string UTF-8 surrogate", "POST", "/db/query", null, Json, [.. "[\"SELECT '"u8, 0xed, 0xa0, 0x80, .. "'\"]"u8], 400, InvalidText),

        // NUL in SQL: 200, the statement's error in its place (changed from 400). rqlite hands the text to SQLite,
        // which reports an error for that statement; a client that mishandles other statuses (pyrqlite leaves a
        // non-200 answer unread and sends the next request again) must get the answer it gets from rqlite. The
        // SQL never reaches SQLite, so nothing hidden after the NUL runs.
        Post("nul in json sql", "/db/query", "[\"SELECT 1\\u0000\"]", 200, Nul),
        Post("nul hiding a second statement", "/db/execute", "[\"SELECT 1;\\u0000DELETE FROM t\"]", 200, Nul),
        Post("nul in parameterized sql", "/db/execute", "[[\"INSERT INTO t VALUES (?)\\u0000\", 1]]", 200, Nul),
        Post("nul in text body", "/db/execute", "DELETE FROM t\0", 200, Nul, Text),
        Get("nul in q", "q=SELECT%201%00", 200, Nul),
        Post("nul in sql script", "/sql", "SELECT 1;\0DELETE FROM t;", 200, Nul, Text),
        Post("nul after a write in a transaction", "/db/execute", "[\"DELETE FROM t\", \"SELECT 1\\u0000\"]", 200, Nul, query: "transaction"),

        // Strings that are not text (lone surrogates): 400, kept. The body cannot be read as the UTF-8 text
        // SQLite takes, as rqlite refuses a body it cannot decode.
        Post("lone surrogate in sql", "/db/query", "[\"SELECT '\\ud800'\"]", 400, InvalidText),
        Post("lone low surrogate in sql", "/db/execute", "[\"DELETE FROM t WHERE a = '\\udc00'\"]", 400, InvalidText),
        Post("lone surrogate in parameter", "/db/execute", "[[\"INSERT INTO t VALUES (?)\", \"\\ud800\"]]", 400, InvalidText),
        Post("lone surrogate in named parameter", "/db/execute", "[[\"INSERT INTO t VALUES (:a)\", {\"a\": \"x\\udfff\"}]]", 400, InvalidText),
        Post("lone surrogate in parameter name", "/db/execute", "[[\"INSERT INTO t VALUES (:a)\", {\"\\ud800\": 1}]]", 400, InvalidText),

        // Parameters: 400, kept, as rqlite refuses a parameter its request parser cannot read. A missing value is
        // SQLite's to report, per statement.
        Post("parameter an object", "/db/execute", "[[\"INSERT INTO t VALUES (:a)\", {\"a\": {\"b\": 1}}]]", 400, "unsupported type for parameter"),
        Post("blob byte 256", "/db/execute", "[[\"INSERT INTO t VALUES (?)\", [256]]]", 400, "unsupported type for parameter"),
        Post("blob byte negative", "/db/execute", "[[\"INSERT INTO t VALUES (?)\", [-1]]]", 400, "unsupported type for parameter"),
        Post("blob byte fraction", "/db/execute", "[[\"INSERT INTO t VALUES (?)\", [1.5]]]", 400, "unsupported type for parameter"),
        Post("blob of strings", "/db/execute", "[[\"INSERT INTO t VALUES (?)\", [\"a\"]]]", 400, "unsupported type for parameter"),
        Post("number beyond double", "/db/execute", "[[\"INSERT INTO t VALUES (?)\", 1e400]]", 400, "number out of range for parameter"),
        Post("number far beyond double", "/db/execute", "[[\"INSERT INTO t VALUES (?)\", -" + new string('9', 400) + "]]", 400, "number out of range for parameter"),
        Post("missing parameter value", "/db/execute", "[[\"UPDATE t SET a = ? WHERE a = ?\", 1]]", 200, "missing value for parameter"),

        // Flags: 400, kept, as rqlite answers a flag it cannot read.
        Get("level unknown", "q=SELECT%201&level=eventual", 400, "unrecognized consistency level"),
        Get("db_timeout not a duration", "q=SELECT%201&db_timeout=soon", 400, "invalid db_timeout"),
        Get("db_timeout negative", "q=SELECT%201&db_timeout=-1s", 400, "invalid db_timeout"),
        Get("db_timeout huge seconds", "q=SELECT%201&db_timeout=99999999999999", 400, "invalid db_timeout"),
        Get("db_timeout huge hours", "q=SELECT%201&db_timeout=9999999999999999999h", 400, "invalid db_timeout"),
        Get("db_timeout final newline", "q=SELECT%201&db_timeout=5s%0A", 400, "invalid db_timeout"),
        Get("db_timeout arabic digit", "q=SELECT%201&db_timeout=%D9%A3s", 400, "invalid db_timeout"),
        Get("freshness huge", "q=SELECT%201&level=none&freshness=99999999999999", 400, "invalid freshness"),
        Get("freshness not a duration", "q=SELECT%201&level=none&freshness=soon", 400, "invalid freshness"),

        // Database names (ours): 400, kept: a request for no valid database has no statement to answer for.
        Get("db final newline", "q=SELECT%201&db=sneaky%0A", 400, "invalid database name"),
        Get("db default with final newline", "q=SELECT%20*%20FROM%20t&db=default%0A", 400, "invalid database name"),
        Post("db final newline on a write", "/db/execute", "[\"CREATE TABLE x(a)\"]", 400, "invalid database name", query: "db=sneaky%0A"),
        Get("db empty", "q=SELECT%201&db=", 400, "invalid database name"),
        Get("db path traversal", "q=SELECT%201&db=..%2Fdefault", 400, "invalid database name"),
        Get("db nul", "q=SELECT%201&db=default%00", 400, "invalid database name"),
        Get("db 65 characters", "q=SELECT%201&db=" + new string('a', 65), 400, "invalid database name"),
        Get("db non-ascii", "q=SELECT%201&db=caf%C3%A9", 400, "invalid database name"),
        Get("db with a space", "q=SELECT%201&db=has%20space", 400, "invalid database name"),

        // Routes and methods: 404 and 405, kept, as rqlite answers them.
        Raw("unknown route", "GET", "/nowhere", null, Json, null, 404, "not found"),
        Raw("unknown route under db", "POST", "/db/drop", null, Json, "[\"SELECT 1\"]"u8.ToArray(), 404, "not found"),
        Raw("delete on execute", "DELETE", "/db/execute", null, Json, null, 405, "method not allowed"),
        Raw("get on execute", "GET", "/db/execute", "q=DELETE%20FROM%20t", Json, null, 405, "method not allowed"),
        Raw("put on query", "PUT", "/db/query", null, Json, "[\"DELETE FROM t\"]"u8.ToArray(), 405, "method not allowed"),
        Raw("post on status", "POST", "/status", null, Json, null, 405, "method not allowed"),

        // Backups and listings: 400, kept: no statements, so no per-statement place for an error.
        Raw("backup format unknown", "GET", "/db/backup", "fmt=xml", Json, null, 400, "unsupported backup format 'xml'"),
        Raw("backup vacuum", "GET", "/db/backup", "vacuum", Json, null, 400, "vacuum is not supported"),
        Raw("backup db invalid", "GET", "/db/backup", "db=..%2Fdefault", Json, null, 400, "invalid database name"),
        Raw("backup level unknown", "GET", "/db/backup", "level=eventual", Json, null, 400, "unrecognized consistency level"),
        Raw("post on backup", "POST", "/db/backup", null, Json, "[\"DELETE FROM t\"]"u8.ToArray(), 405, "method not allowed"),
        Raw("databases limit zero", "GET", "/db/databases", "limit=0", Json, null, 400, "invalid limit '0'"),
        Raw("databases limit huge", "GET", "/db/databases", "limit=99999999999999999999", Json, null, 400, "invalid limit"),
        Raw("databases token traversal", "GET", "/db/databases", "next=..%2F..%2Fetc", Json, null, 400, "invalid next"),
        Raw("databases token newline", "GET", "/db/databases", "next=shop%0A", Json, null, 400, "invalid next"),
        Raw("post on databases", "POST", "/db/databases", null, Json, "[\"DELETE FROM t\"]"u8.ToArray(), 405, "method not allowed"),

        // Loads: 400, kept: the load is one operation, refused whole; every refused file or dump leaves the database as it was.
        Raw("load empty body", "POST", "/db/load", null, Binary, [], 400, "the load body is empty"),
        Raw("load not sqlite", "POST", "/db/load", null, Binary, Encoding.ASCII.GetBytes(new string('x', 4096)), 400, "does not start with the SQLite header string"),
        Raw("load gzip of a file", "POST", "/db/load", null, Binary, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3], 400, "shorter than the 100-byte SQLite header"),
        Raw("load header only", "POST", "/db/load", null, Binary, SqliteHeaderOnly(), 400, "is not a whole number of"),
        Raw("load dump attach", "POST", "/db/load", null, Text, "BEGIN TRANSACTION;\nATTACH DATABASE '/tmp/x' AS x;\nCOMMIT;\n"u8.ToArray(), 400, Attach),
        Raw("load dump load_extension", "POST", "/db/load", null, Text, "SELECT load_extension('/tmp/evil');"u8.ToArray(), 400, "load_extension() is not allowed"),
        Raw("load dump managed pragma", "POST", "/db/load", null, Text, "PRAGMA writable_schema=ON;"u8.ToArray(), 400, "PRAGMA writable_schema cannot be changed"),
        Raw("load dump rollback", "POST", "/db/load", null, Text, "BEGIN TRANSACTION;\nCREATE TABLE x(y);\nROLLBACK;\n"u8.ToArray(), 400, "the dump rolls back"),
        Raw("load dump failing statement", "POST", "/db/load", null, Text, "CREATE TABLE x(y);\nINSERT INTO nowhere VALUES (1);\n"u8.ToArray(), 400, "the dump's statement 2 failed"),
        Raw("load dump invalid UTF-8", "POST", "/db/load", null, Text, [0x53, 0x45, 0xff, 0xfe], 400, "request body is not valid UTF-8"),
        Raw("load staged id not hex", "POST", "/db/load", "staged=..%2F..%2Fdefault", Binary, null, 400, "invalid staged upload id"),
        Raw("load db invalid", "POST", "/db/load", "db=..%2Fdefault", Text, "CREATE TABLE x(y);"u8.ToArray(), 400, "invalid database name"),
        Raw("get on load", "GET", "/db/load", null, Json, null, 405, "method not allowed"),
        // Time travel (ours): 400 and 404, kept: what is refused is the version asked for, not a statement.
        Post("execute with as_of", "/db/execute", "[\"DELETE FROM t\"]", 400, "as_of and version read an old version", query: "as_of=2999-01-01T00:00:00Z"),
        Post("execute read with version", "/db/execute", "[\"SELECT 1\"]", 400, "as_of and version read an old version", query: "version=1-a"),
        Post("request writing as of now", "/db/request", "[\"SELECT 1\", \"DELETE FROM t\"]", 400, "and this request writes: nothing was run", query: "as_of=2999-01-01T00:00:00Z"),
        Post("script writing as of now", "/sql", "DELETE FROM t;", 400, "and this request writes: nothing was run", Text, query: "as_of=2999-01-01T00:00:00Z"),
        Get("as_of without an offset", "q=SELECT%201&as_of=2026-12-02T10:15:00", 400, "invalid as_of"),
        Get("as_of a unix time", "q=SELECT%201&as_of=1764670500", 400, "invalid as_of"),
        Get("as_of with a newline", "q=SELECT%201&as_of=2026-12-02T10:15:00Z%0A", 400, "invalid as_of"),
        Get("as_of and version", "q=SELECT%201&as_of=2026-12-02T10:15:00Z&version=1-a", 400, "as_of and version name a version each"),
        Get("version with a space", "q=SELECT%201&version=a%20b", 400, "invalid version"),
        Get("version empty", "q=SELECT%201&version=", 400, "invalid version"),
        Get("version unknown", "q=SELECT%201&version=nosuchversion", 404, "has no version 'nosuchversion'"),
        Get("as_of before the first version", "q=SELECT%201&as_of=2000-01-01T00:00:00Z", 404, "has no version as of 2000-01-01T00:00:00Z"),
        Raw("backup as_of invalid", "GET", "/db/backup", "as_of=now", Json, null, 400, "invalid as_of"),
        Raw("versions limit zero", "GET", "/db/versions", "limit=0", Json, null, 400, "invalid limit"),
        Raw("versions limit huge", "GET", "/db/versions", "limit=99999999999", Json, null, 400, "invalid limit"),
        Raw("versions next garbage", "GET", "/db/versions", "next=%2F..%2F", Json, null, 400, "invalid next"),
        Raw("versions next not a token", "GET", "/db/versions", "next=bm90LWEtdG9rZW4", Json, null, 400, "invalid next"),
        Raw("versions db invalid", "GET", "/db/versions", "db=..%2Fdefault", Json, null, 400, "invalid database name"),
        Raw("post on versions", "POST", "/db/versions", null, Json, null, 405, "method not allowed"),
        Raw("restore without a version", "POST", "/db/restore", null, Json, null, 400, "POST /db/restore needs version=ID or as_of=TIME"),
        Raw("restore as_of invalid", "POST", "/db/restore", "as_of=yesterday", Json, null, 400, "invalid as_of"),
        Raw("restore unknown version", "POST", "/db/restore", "version=nosuchversion", Json, null, 404, "has no version 'nosuchversion'"),
        Raw("restore before the first version", "POST", "/db/restore", "as_of=2000-01-01T00:00:00Z", Json, null, 404, "has no version as of"),
        Raw("restore db invalid", "POST", "/db/restore", "db=..%2Fdefault&version=1-a", Json, null, 400, "invalid database name"),
        Raw("get on restore", "GET", "/db/restore", "version=1-a", Json, null, 405, "method not allowed"),
        Get("query without q", null, 400, "missing q parameter"),
        Get("query with empty q", "q=", 400, "missing q parameter"),
        Get("query with blank q", "q=%20%0A", 400, "missing q parameter"),

        // SQL the sandbox refuses: 400, kept, whole request, nothing run. These are ours, not rqlite's (it would run
        // ATTACH or BEGIN): a request that carries a dangerous statement, or transaction control where the request
        // is the transaction, is refused as a whole and changes nothing, so that no part of it can run around the
        // refusal. The engine's bounds and SQLite's own errors: 200 with the statement's error, as rqlite answers;
        // a result too large is our limit (413).
        Post("attach", "/db/request", "[\"ATTACH DATABASE '/tmp/other.sqlite' AS other\"]", 400, Attach),
        Post("attach memory after a write", "/db/execute", "[\"DELETE FROM t\", \"ATTACH ':memory:' AS m\"]", 400, Attach),
        Post("detach", "/db/execute", "[\"DETACH DATABASE main\"]", 400, Attach),
        Post("vacuum into", "/db/execute", "[\"VACUUM INTO '/tmp/stolen.sqlite'\"]", 400, Attach),
        Post("vacuum into in a script", "/sql", "DELETE FROM t; VACUUM INTO '/tmp/stolen.sqlite';", 400, Attach, Text),
        Post("load_extension", "/db/query", "[\"SELECT load_extension('/tmp/evil.so')\"]", 400, "load_extension() is not allowed"),
        Post("writable_schema on", "/db/execute", "[\"PRAGMA writable_schema = ON\", \"DELETE FROM t\"]", 400, "PRAGMA writable_schema cannot be changed"),
        Post("writable_schema reset", "/db/execute", "[\"PRAGMA writable_schema = RESET\"]", 400, "PRAGMA writable_schema cannot be changed"),
        Post("journal_mode wal", "/db/execute", "[\"PRAGMA journal_mode = WAL\"]", 400, "PRAGMA journal_mode cannot be changed"),
        Post("begin", "/db/execute", "[\"BEGIN\", \"DELETE FROM t\"]", 400, TransactionControl),
        Post("commit", "/db/execute", "[\"DELETE FROM t\", \"COMMIT\"]", 400, TransactionControl),
        Post("rollback", "/db/request", "[\"ROLLBACK\"]", 400, TransactionControl),
        Post("savepoint", "/db/execute", "[\"SAVEPOINT s1\", \"DELETE FROM t\", \"RELEASE s1\"]", 400, TransactionControl),
        Post("begin in text body", "/db/execute", "BEGIN; DELETE FROM t; COMMIT", 400, TransactionControl, Text),
        Post("huge randomblob", "/db/query", "[\"SELECT length(randomblob(200000000))\"]", 200, "string or blob too big"),
        Post("huge zeroblob written", "/db/execute", "[\"INSERT INTO t VALUES (zeroblob(200000000))\"]", 200, "string or blob too big"),
        Post("huge hex of a zeroblob", "/db/query", "[\"SELECT length(hex(zeroblob(100000000)))\"]", 200, "string or blob too big"),
        Post("result over MAX_RESULT_BYTES", "/db/query", "[\"SELECT zeroblob(6000000)\"]", 413, "result too large"),
        Post("recursive cte bomb read", "/db/query", "[\"" + Bomb + " SELECT count(*) FROM c\"]", 200, "statement timed out", query: "db_timeout=200ms"),
        Post("recursive cte bomb write", "/db/execute", "[\"INSERT INTO t " + Bomb + " SELECT n FROM c\"]", 200, "statement timed out", query: "db_timeout=200ms"),
        Post("recursive cte bomb in a transaction", "/db/execute", "[\"DELETE FROM t\", \"INSERT INTO t " + Bomb + " SELECT n FROM c\"]", 200, "statement timed out", query: "db_timeout=200ms&transaction"),
        Post("write sent to query", "/db/query", "[\"DELETE FROM t\"]", 200, "attempt to change database via query operation"),
        Post("deep expression", "/db/query", "[\"SELECT " + string.Concat(Enumerable.Repeat("abs(", 5000)) + "1" + new string(')', 5000) + "\"]", 200, "Expression tree is too large"),
        Post("syntax error", "/db/execute", "[\"DELET FROM t\"]", 200, "syntax error"),
        Post("failing transaction", "/db/execute", "[\"DELETE FROM t\", \"INSERT INTO nowhere VALUES (1)\"]", 200, "no such table: nowhere", query: "transaction"),

        // Malformed Lambda events: the handler only.
        Event("event not json", "hello", "invalid event: not JSON"),
        Event("event empty", "", "invalid event: not JSON"),
        Event("event an array", "[1, 2]", "invalid event: expected an API Gateway proxy event"),
        Event("event an empty object", "{}", "invalid event: expected an API Gateway proxy event"),
        Event("event a scheduled event", """{"source": "aws.events", "detail-type": "Scheduled Event"}""", "invalid event: expected an API Gateway proxy event"),
        Event("event v2 without method", """{"version": "2.0", "rawPath": "/db/query"}""", "invalid event: a payload 2.0 event needs"),
        Event("event v1 without path", """{"httpMethod": "GET"}""", "invalid event: a payload 1.0 event needs"),
        Event("event headers of the wrong type", """{"httpMethod": "POST", "path": "/db/query", "headers": 5}""", "invalid event"),
        Event("event isBase64Encoded a string", """{"httpMethod": "POST", "path": "/db/query", "body": "W10=", "isBase64Encoded": "yes"}""", "invalid event"),
        Event("event body not base64", QueryRunnerEvents.HttpApiV2("POST", "/db/execute", body: "not base64!").Replace("\"isBase64Encoded\":false", "\"isBase64Encoded\":true", StringComparison.Ordinal), "invalid event: isBase64Encoded is true but the body is not base64"),
        Event("event v1 body not base64", QueryRunnerEvents.RestApiV1("POST", "/db/execute", body: "%%%", base64: false).Replace("\"isBase64Encoded\":false", "\"isBase64Encoded\":true", StringComparison.Ordinal), "invalid event: isBase64Encoded is true but the body is not base64"),
        Event("event body a lone surrogate", QueryRunnerEvents.HttpApiV2("POST", "/db/execute", body: "[\"DELETE FROM t\"]").Replace("DELETE FROM t", "\\ud800", StringComparison.Ordinal), "invalid"),
        Event("event nested 1000 deep", "{\"a\":" + new string('[', 1000) + new string(']', 1000) + "}", "invalid event: not JSON"),
    ];

    public static TheoryData<string> HttpCaseNames { get; } = [.. Cases.Where(c => !c.LambdaOnly).Select(c => c.Name)];

    public static TheoryData<string> AllCaseNames { get; } = [.. Cases.Select(c => c.Name)];

    public static BadInputCase Named(string name) => Cases.Single(c => c.Name == name);

    /// <summary>The first 100 bytes of a SQLite file: a valid header, no whole page.</summary>
    private static byte[] SqliteHeaderOnly()
    {
        var header = new byte[100];
        "SQLite format 3\0"u8.CopyTo(header);
        header[16] = 0x10; // page size 4096
        header[18] = header[19] = 1;
        header[21] = 64;
        header[22] = header[23] = 32;
        return header;
    }

    private static BadInputCase Post(string name, string path, string body, int status, string expected, string contentType = Json, string? query = null) =>
        new(name, "POST", path, query, contentType, Encoding.UTF8.GetBytes(body), status, expected);

    private static BadInputCase Get(string name, string? query, int status, string expected) =>
        new(name, "GET", "/db/query", query, Json, null, status, expected);

    private static BadInputCase Raw(string name, string method, string path, string? query, string contentType, byte[]? body, int status, string expected) =>
        new(name, method, path, query, contentType, body, status, expected);

    private static BadInputCase Event(string name, string rawEvent, string expected) =>
        new(name, "", "", null, Json, null, 400, expected, rawEvent);
}
