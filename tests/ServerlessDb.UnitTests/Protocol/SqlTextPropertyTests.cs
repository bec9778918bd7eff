using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Protocol;

/// <summary>Arbitrary SQL text through the request parser and the /sql script splitter: they always finish, and fail only with a 400.</summary>
public sealed class SqlTextPropertyTests
{
    // Every character as a \uXXXX escape, so lone surrogates and NULs reach the parser as a client can send them.
    private static byte[] JsonArrayOf(string sql)
    {
        var json = new StringBuilder("[\"");
        foreach (var c in sql)
        {
            json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }

        return Encoding.UTF8.GetBytes(json.Append("\"]").ToString());
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(Exception? error) => error is null ? "no error" : $"{error.GetType().Name}: {error.Message}";

    [Property(MaxTest = 1000)]
    public Property The_parser_returns_the_sql_exactly_or_refuses_it_with_a_400() =>
        Prop.ForAll(HostileText.SqlLike, sql =>
        {
            var (statements, error) = Bounded.Run(() => Attempt(() => StatementParser.ParseJson(JsonArrayOf(sql), 100)), "ParseJson");
            var expectedError = !IsWellFormed(sql);
            return (expectedError
                    ? error is BadRequestException && statements is null
                    : error is null && statements is [{ } only] && only.Sql == sql)
                .Label($"{Describe(error)} for {Printable(sql)}");
        });

    [Property(MaxTest = 1000)]
    public Property The_parser_meets_arbitrary_bytes_with_statements_or_a_400() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()), body =>
        {
            var (_, error) = Bounded.Run(() => Attempt(() => StatementParser.ParseJson(body, 100)), "ParseJson");
            return (error is null or BadRequestException).Label(Describe(error));
        });

    [Property(MaxTest = 1000)]
    public Property The_splitter_finishes_and_yields_trimmed_statements_or_a_400() =>
        Prop.ForAll(HostileText.SqlLike, script =>
        {
            var (statements, error) = Bounded.Run(() => Attempt(() => SqlScriptSplitter.Split(script, 1000)), "Split");
            if (error is not null)
            {
                return (error is BadRequestException).Label(Describe(error));
            }

            return statements!.All(s => s.Sql.Length > 0 && s.Sql == s.Sql.Trim())
                .Label($"{string.Join(" | ", statements!.Select(s => Printable(s.Sql)))} from {Printable(script)}");
        });

    [Property(MaxTest = 500)]
    public Property The_splitter_keeps_every_non_blank_character_in_order() =>
        Prop.ForAll(HostileText.SqlLike, script =>
        {
            var (statements, error) = Bounded.Run(() => Attempt(() => SqlScriptSplitter.Split(script, 1000)), "Split");
            if (error is not null)
            {
                return (error is BadRequestException).ToProperty();
            }

            static string Dense(string s) => string.Concat(s.Where(c => !char.IsWhiteSpace(c) && c != ';'));
            return (Dense(string.Concat(statements!.Select(s => s.Sql))) == Dense(script)).Label(Printable(script));
        });

    private static (T? Value, Exception? Error) Attempt<T>(Func<T> work)
        where T : class
    {
        try
        {
            return (work(), null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    private static string Printable(string text) =>
        string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}"));
}
