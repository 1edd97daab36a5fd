/// The syntax tree. Every node carries the source range it came from, so errors at run time
/// point at the exact expression.
public struct Expr {
    public var kind: ExprKind
    public var range: SourceRange
    public init(_ kind: ExprKind, _ range: SourceRange) { self.kind = kind; self.range = range }
}

public enum InterpolationPart {
    case text(String)
    case expr(Expr)
}

/// An argument in a command call: positional, or an option `key: value`.
public enum Argument {
    case positional(Expr)
    case option(String, Expr, SourceRange)
}

public indirect enum ExprKind {
    case literal(Value)
    case interpolated([InterpolationPart])
    case name(String)
    case list([Expr])
    case map([(Expr, Expr)])
    /// `-x`, `not x`
    case unary(String, Expr)
    /// Arithmetic and comparison operators, `in` and `not in`.
    case binary(String, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case field(Expr, String)
    case index(Expr, Expr)
    case slice(Expr, Expr?, Expr?)
    /// A command call. `bare` marks a name alone in command position (`t = now`): it is
    /// called when its value is a command that can run without arguments, else it is its value.
    case call(Expr, [Argument], bare: Bool)
    /// `value | command args…`: the value becomes the command's last positional argument.
    case pipe(Expr, Expr, [Argument])
    case function(FunctionDecl)
}

public struct Parameter {
    public var name: String
    public var defaultValue: Expr?
    /// `...rest` collects the remaining positional arguments as a list.
    public var isRest: Bool
    public var range: SourceRange
}

/// A function literal or declaration: `fn name(a, b = 1, ...rest) { … }`.
public final class FunctionDecl {
    public let name: String?
    public let params: [Parameter]
    public let body: [Stmt]
    public let range: SourceRange
    init(name: String?, params: [Parameter], body: [Stmt], range: SourceRange) {
        self.name = name; self.params = params; self.body = body; self.range = range
    }
}

public struct CatchClause {
    /// Error kinds this clause handles (`"timeout"`, `"dns"` also matches `dns.nxdomain`); empty: all.
    public var kinds: [String]
    public var binding: String?
    public var body: [Stmt]
    public var range: SourceRange
}

public struct Stmt {
    public var kind: StmtKind
    public var range: SourceRange
    public init(_ kind: StmtKind, _ range: SourceRange) { self.kind = kind; self.range = range }
}

public indirect enum StmtKind {
    case expr(Expr)
    /// `target = value`, `target += value`, …; targets are names, fields and indexes.
    case assign(Expr, String, Expr)
    case ifElse([(Expr, [Stmt])], [Stmt]?)
    case whileLoop(Expr, [Stmt])
    case forLoop([String], Expr, [Stmt])
    case function(FunctionDecl)
    case returnStmt(Expr?)
    case breakStmt
    case continueStmt
    case tryCatch([Stmt], [CatchClause], [Stmt]?)
    case importFile(Expr)
    /// `global a, b`: inside a function, assignments to these names update the globals.
    case global([String])
}
