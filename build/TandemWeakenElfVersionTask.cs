// Marks one symbol-version requirement of an ELF64 shared object as weak (VER_FLG_WEAK).
//
// Why: TorchSharp's libLibTorchSharp.so is linked against a newer libstdc++ and lists
// GLIBCXX_3.4.32 among its version needs. Debian bookworm's libstdc++ stops at 3.4.30, so the
// dynamic loader refuses the library. The only symbol bound to that version is
// std::ios_base_library_init(), a link-time anchor that is never called at run time. A weak
// version need is allowed to be missing, so after this patch the library loads and runs.
//
// This file is compiled into the build (build/TorchSharpGlibcxx.targets, as an inline task) and
// also by the Torch tests (with TANDEM_NO_MSBUILD_TASK defined). The patcher uses only the BCL.
#nullable enable
using System;
using System.IO;
using System.Text;

namespace Tandem.Build
{
    public static class ElfVersionPatcher
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Outcome of <see cref="MarkVersionWeak"/>.</summary>
        public enum Result { Patched, AlreadyWeak, VersionNotReferenced, NotElf64 }

        /// <summary>
        /// Returns a copy of <paramref name="elf"/> in which every Vernaux entry named
        /// <paramref name="version"/> has VER_FLG_WEAK set. The input array is not modified.
        /// </summary>
        public static Result MarkVersionWeak(byte[] elf, string version, out byte[] patched)
        {
            patched = elf;
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
                || elf[4] != 2 /* ELFCLASS64 */ || elf[5] != 1 /* little-endian */)
                return Result.NotElf64;

            ulong shoff = BitConverter.ToUInt64(elf, 0x28);
            ushort shentsize = BitConverter.ToUInt16(elf, 0x3A);
            ushort shnum = BitConverter.ToUInt16(elf, 0x3C);
            if (shoff == 0 || shentsize < 64 || shoff + (ulong)shentsize * shnum > (ulong)elf.Length)
                return Result.NotElf64;

            byte[] copy = (byte[])elf.Clone();
            bool found = false, changed = false;
            for (int i = 0; i < shnum; i++)
            {
                long sh = (long)shoff + (long)i * shentsize;
                if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
                long secOffset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
                uint link = BitConverter.ToUInt32(elf, (int)sh + 0x28);
                uint count = BitConverter.ToUInt32(elf, (int)sh + 0x2C);
                long strSh = (long)shoff + (long)link * shentsize;
                long strOffset = (long)BitConverter.ToUInt64(elf, (int)strSh + 0x18);

                long vn = secOffset;
                for (uint n = 0; n < count; n++)
                {
                    ushort auxCount = BitConverter.ToUInt16(elf, (int)vn + 2);
                    uint auxOff = BitConverter.ToUInt32(elf, (int)vn + 8);
                    uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                    long aux = vn + auxOff;
                    for (int a = 0; a < auxCount; a++)
                    {
                        uint nameOff = BitConverter.ToUInt32(elf, (int)aux + 8);
                        if (ReadCString(elf, strOffset + nameOff) == version)
                        {
                            found = true;
                            ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                            if ((flags & VerFlagWeak) == 0)
                            {
                                BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(copy, (int)aux + 4);
                                changed = true;
                            }
                        }
                        uint auxNext = BitConverter.ToUInt32(elf, (int)aux + 12);
                        if (auxNext == 0) break;
                        aux += auxNext;
                    }
                    if (next == 0) break;
                    vn += next;
                }
            }
            if (!found) return Result.VersionNotReferenced;
            if (!changed) return Result.AlreadyWeak;
            patched = copy;
            return Result.Patched;
        }

        /// <summary>True when a shared library file defines (contains the string of) the version.</summary>
        public static bool LibraryProvidesVersion(string libraryPath, string version)
        {
            byte[] data = File.ReadAllBytes(libraryPath);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            return IndexOf(data, needle) >= 0;
        }

        /// <summary>
        /// Patches <paramref name="path"/> by writing a new file and renaming it over the old one,
        /// so that a hard link to the NuGet cache is broken rather than modified.
        /// </summary>
        public static Result PatchFile(string path, string version)
        {
            byte[] original = File.ReadAllBytes(path);
            Result r = MarkVersionWeak(original, version, out byte[] patched);
            if (r != Result.Patched) return r;
            string tmp = path + ".tandem-patch.tmp";
            File.WriteAllBytes(tmp, patched);
            // Delete, then move: overwriting in place would write through a hard link into the NuGet cache.
            File.Delete(path);
            File.Move(tmp, path);
            return r;
        }

        private static string ReadCString(byte[] data, long offset)
        {
            long end = offset;
            while (end < data.Length && data[end] != 0) end++;
            return Encoding.ASCII.GetString(data, (int)offset, (int)(end - offset));
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i <= haystack.Length - needle.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }
    }
}

#if !TANDEM_NO_MSBUILD_TASK
namespace Tandem.Build
{
    /// <summary>MSBuild inline task: weakens <c>Version</c> in each file unless the system libstdc++ has it.</summary>
    public class TandemWeakenElfVersion : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        [Microsoft.Build.Framework.Required]
        public string Version { get; set; } = "";

        private static readonly string[] SystemLibStdCxx =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };

        public override bool Execute()
        {
            string? systemLib = null;
            foreach (string p in SystemLibStdCxx) if (File.Exists(p)) { systemLib = p; break; }
            if (systemLib != null && ElfVersionPatcher.LibraryProvidesVersion(systemLib, Version))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                    $"{systemLib} provides {Version}; libLibTorchSharp.so left as shipped.");
                return true;
            }
            foreach (var item in Files)
            {
                var result = ElfVersionPatcher.PatchFile(item.ItemSpec, Version);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    $"{item.ItemSpec}: {Version} version need -> {result} (system libstdc++ lacks it).");
            }
            return true;
        }
    }
}
#endif
