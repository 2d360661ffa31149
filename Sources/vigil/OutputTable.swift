import Foundation
import VigilPipeline

/// Prints rendered output; nothing at all when it is empty (an empty JSON-lines listing).
func emit(_ rendered: String) {
    if !rendered.isEmpty { print(rendered) }
}
