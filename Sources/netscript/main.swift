import Foundation
import NetScript

let interp = Interpreter()
do {
    try interp.run(Source(name: "-e", text: CommandLine.arguments[2]))
    interp.output.flush()
} catch let d as Diagnostic {
    interp.output.flush()
    FileHandle.standardError.write((d.render() + "\n").data(using: .utf8)!)
    exit(1)
}
