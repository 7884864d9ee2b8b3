using System.Runtime.InteropServices;
using Mono.Cecil;

namespace MlNet.Rnn.Build;

/// <summary>How much of an assembly a publicizing pass made visible.</summary>
/// <param name="Types">Types whose visibility was raised.</param>
/// <param name="Members">Methods (with property and event accessors) and fields whose visibility was raised.</param>
internal readonly record struct PublicizedCounts(int Types, int Members);

/// <summary>
/// Rewrites an assembly so that the C# compiler lets another assembly see its internal surface:
/// <list type="bullet">
/// <item>non-public top-level types become public; nested types that are not private become nested-public;</item>
/// <item><c>internal</c> and <c>protected internal</c> members become public, <c>private protected</c> becomes <c>protected</c>;</item>
/// <item><c>private</c> stays private (raising it would clash with names the assembly reuses), and so do compiler-generated
/// members and explicit interface implementations;</item>
/// <item>the strong-name-signed flag is cleared, but the name and public key are kept, so the reference identity the
/// compiler records is the real assembly's.</item>
/// </list>
/// </summary>
internal static class AssemblyPublicizer
{
    private const string CompilerGenerated = "System.Runtime.CompilerServices.CompilerGeneratedAttribute";

    /// <summary>Reads <paramref name="inputPath"/> and writes its publicized copy to <paramref name="outputPath"/> (atomically).</summary>
    public static PublicizedCounts Publicize(string inputPath, string outputPath)
    {
        string inputFolder = Path.GetDirectoryName(Path.GetFullPath(inputPath))!;
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(inputFolder);
        resolver.AddSearchDirectory(RuntimeEnvironment.GetRuntimeDirectory());

        // Read from memory, so the input is never locked and the output may live anywhere.
        using var input = new MemoryStream(File.ReadAllBytes(inputPath));
        using var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver });
        var counts = new PublicizedCounts();
        foreach (var module in assembly.Modules)
        {
            module.Attributes &= ~ModuleAttributes.StrongNameSigned;
            foreach (var type in module.Types) counts = Add(counts, PublicizeType(type));
        }

        string fullOutput = Path.GetFullPath(outputPath);
        Directory.CreateDirectory(Path.GetDirectoryName(fullOutput)!);
        string temporary = fullOutput + ".tmp";
        assembly.Write(temporary);
        File.Move(temporary, fullOutput, overwrite: true);
        return counts;
    }

    private static PublicizedCounts PublicizeType(TypeDefinition type)
    {
        if (type.Name == "<Module>" || IsCompilerGenerated(type)) return default;
        int types = 0, members = 0;
        if (type.IsNested ? !type.IsNestedPublic && !type.IsNestedPrivate : !type.IsPublic)
        {
            type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask)
                | (type.IsNested ? TypeAttributes.NestedPublic : TypeAttributes.Public);
            types++;
        }
        foreach (var method in type.Methods)
        {
            if (IsCompilerGenerated(method) || IsExplicitInterfaceImplementation(method)) continue;
            var access = method.Attributes & MethodAttributes.MemberAccessMask;
            var raised = access switch
            {
                MethodAttributes.Assembly or MethodAttributes.FamORAssem => MethodAttributes.Public,
                MethodAttributes.FamANDAssem => MethodAttributes.Family,
                _ => access,
            };
            if (raised == access) continue;
            method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | raised;
            members++;
        }
        foreach (var field in type.Fields)
        {
            if (IsCompilerGenerated(field)) continue;
            var access = field.Attributes & FieldAttributes.FieldAccessMask;
            var raised = access switch
            {
                FieldAttributes.Assembly or FieldAttributes.FamORAssem => FieldAttributes.Public,
                FieldAttributes.FamANDAssem => FieldAttributes.Family,
                _ => access,
            };
            if (raised == access) continue;
            field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | raised;
            members++;
        }
        var counts = new PublicizedCounts(types, members);
        foreach (var nested in type.NestedTypes) counts = Add(counts, PublicizeType(nested));
        return counts;
    }

    private static PublicizedCounts Add(PublicizedCounts a, PublicizedCounts b) => new(a.Types + b.Types, a.Members + b.Members);

    // Lambdas' closures, iterator and async state machines, backing fields: names the compiler made up (they start with '<').
    private static bool IsCompilerGenerated(IMemberDefinition member) =>
        member.Name.StartsWith('<') || (member is ICustomAttributeProvider { HasCustomAttributes: true } provider
            && provider.CustomAttributes.Any(attribute => attribute.AttributeType.FullName == CompilerGenerated));

    // An explicit implementation (void IFoo.Bar()) is private and named for its interface; raising it would put
    // a member named "IFoo.Bar" on the public surface.
    private static bool IsExplicitInterfaceImplementation(MethodDefinition method) =>
        method.HasOverrides && method.Name.Contains('.') && !method.IsConstructor;
}
