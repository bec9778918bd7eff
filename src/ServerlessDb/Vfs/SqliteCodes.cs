namespace ServerlessDb.Vfs;

/// <summary>The numbers of sqlite3.h that the VFS callbacks speak: result codes, open flags, access and device flags.</summary>
internal static class SqliteCodes
{
    public const int Ok = 0;
    public const int ReadOnly = 8;
    public const int IoError = 10;
    public const int NotFound = 12;
    public const int CantOpen = 14;
    public const int IoErrorRead = IoError | (1 << 8);
    public const int IoErrorShortRead = IoError | (2 << 8);
    public const int IoErrorWrite = IoError | (3 << 8);
    public const int IoErrorTruncate = IoError | (6 << 8);
    public const int IoErrorDelete = IoError | (10 << 8);

    public const int OpenReadOnly = 0x00000001;
    public const int OpenReadWrite = 0x00000002;
    public const int OpenCreate = 0x00000004;
    public const int OpenDeleteOnClose = 0x00000008;
    public const int OpenMainDb = 0x00000100;
    public const int OpenTempDb = 0x00000200;
    public const int OpenTransientDb = 0x00000400;
    public const int OpenTempJournal = 0x00001000;
    public const int OpenSubjournal = 0x00002000;

    public const int AccessExists = 0;

    public const int IoCapImmutable = 0x00002000;
}
