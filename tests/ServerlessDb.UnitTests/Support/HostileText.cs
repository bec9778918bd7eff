using FsCheck;
using FsCheck.Fluent;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// Generators of text that input handling gets wrong: NULs, lone surrogates, newlines, quotes,
/// comment and statement delimiters, non-ASCII digits and letters, mixed with ordinary characters.
/// </summary>
public static class HostileText
{
    private static readonly string[] SqlPieces =
    [
        "SELECT ", "1", "'", "\"", "`", "[", "]", ";", "--", "/*", "*/", "\n", "\r\n", " ", "\0",
        "\ud800", "\udc00", "\ud83d\ude00", "CREATE TRIGGER t AFTER INSERT ON x BEGIN ", "END", "BEGIN", "x", "?", ":a",
        "(", ")", ",", "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c) ", "é", "٣", "$", "\\", "\t",
        "EXPLAIN ", "TEMP ", "CASE ", "VALUES(1)", "PRAGMA ", "ATTACH ", "VACUUM INTO 'x'",
    ];

    /// <summary>Any UTF-16 code unit, lone surrogates included.</summary>
    public static Gen<char> AnyChar { get; } = Gen.Frequency(
        (3, Gen.Choose(0, 0x7f).Select(c => (char)c)),
        (1, Gen.Choose(0, 0xffff).Select(c => (char)c)),
        (1, Gen.Elements('\0', '\n', '\r', '\u2028', '\ud800', '\udfff', '\u0660', '\u00e9', '_', '-')));

    public static Arbitrary<string> AnyString { get; } = Arb.From(AnyChar.ArrayOf().Select(chars => new string(chars)));

    /// <summary>SQL-like text: SQL fragments and arbitrary characters, in any order.</summary>
    public static Arbitrary<string> SqlLike { get; } = Arb.From(
        Gen.Frequency((4, Gen.Elements(SqlPieces)), (1, AnyChar.Select(c => c.ToString())))
            .ArrayOf()
            .Select(parts => string.Concat(parts)));

    /// <summary>Strings built mostly from <paramref name="alphabet"/>, with a few arbitrary characters, of length up to about <paramref name="maxLength"/>.</summary>
    public static Arbitrary<string> Near(string alphabet, int maxLength) => Arb.From(
        from length in Gen.Choose(0, maxLength + 2)
        from chars in Gen.Frequency((12, Gen.Elements(alphabet.ToCharArray())), (1, AnyChar)).ArrayOf(length)
        select new string(chars));
}
