namespace Cli.Shell;

/// <summary>
/// Whether the shell's input so far is complete, as sqlite3_complete decides: it ends with a ';' outside
/// strings, quoted names and comments; a CREATE TRIGGER ends only with <c>END;</c> (its body has ';' of its own).
/// </summary>
internal static class SqlText
{
    public static bool IsComplete(string text)
    {
        var words = new List<string>();
        var endsWithSemicolon = false;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c is '\'' or '"' or '`')
            {
                var close = text.IndexOf(c, i + 1);
                // A doubled quote inside is two quoted runs in a row: the scan handles it as such.
                if (close < 0)
                {
                    return false;
                }

                i = close + 1;
                endsWithSemicolon = false;
            }
            else if (c == '[')
            {
                var close = text.IndexOf(']', i + 1);
                if (close < 0)
                {
                    return false;
                }

                i = close + 1;
                endsWithSemicolon = false;
            }
            else if (c == '-' && i + 1 < text.Length && text[i + 1] == '-')
            {
                var newline = text.IndexOf('\n', i);
                i = newline < 0 ? text.Length : newline + 1;
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var close = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (close < 0)
                {
                    return false;
                }

                i = close + 2;
            }
            else if (c == ';')
            {
                words.Add(";");
                endsWithSemicolon = true;
                i++;
            }
            else if (char.IsLetterOrDigit(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '$'))
                {
                    i++;
                }

                words.Add(text[start..i].ToUpperInvariant());
                endsWithSemicolon = false;
            }
            else
            {
                if (!char.IsWhiteSpace(c))
                {
                    endsWithSemicolon = false;
                }

                i++;
            }
        }

        if (!endsWithSemicolon)
        {
            return false;
        }

        // The last statement (after the previous ';' that ended a statement) decides: a trigger needs END before its ';'.
        return !EndsInsideTrigger(words);
    }

    private static bool EndsInsideTrigger(List<string> words)
    {
        var inTrigger = false;
        var statementStart = true;
        for (var w = 0; w < words.Count; w++)
        {
            if (statementStart)
            {
                inTrigger = words[w] == "CREATE" && w + 1 < words.Count
                    && (words[w + 1] == "TRIGGER" || (words[w + 1] is "TEMP" or "TEMPORARY" && w + 2 < words.Count && words[w + 2] == "TRIGGER"));
                statementStart = false;
            }

            if (words[w] == ";")
            {
                if (!inTrigger || (w > 0 && words[w - 1] == "END"))
                {
                    statementStart = true;
                    inTrigger = false;
                }
            }
        }

        return inTrigger;
    }
}
