import RawJSON

/// Which threats a `GET /web/api/v2.1/threats` query selects, in which order, and where a cursor resumes.
///
/// Cursors are keyset cursors — the sort value and index of the last threat served — so paging stays correct
/// even while threats change, as the console's own do.
struct ThreatListSelection {
    enum SortField: String {
        case createdAt, updatedAt, id
    }

    var ids: Set<String>?
    var siteIDs: Set<String>?
    var accountIDs: Set<String>?
    var createdAtRange = TimeRange()
    var updatedAtRange = TimeRange()
    var sortField = SortField.id
    var descending = false

    /// The query's filters, in a canonical text: a cursor is only valid for the filters it was issued with.
    var fingerprint: String

    struct TimeRange {
        var lowerBound: RFC3339Timestamp?
        var lowerInclusive = true
        var upperBound: RFC3339Timestamp?
        var upperInclusive = true

        func contains(_ time: RFC3339Timestamp) -> Bool {
            if let lower = lowerBound, lowerInclusive ? time < lower : time <= lower { return false }
            if let upper = upperBound, upperInclusive ? time > upper : time >= upper { return false }
            return true
        }
    }

    /// Reads the query; a malformed value is a `400` with the message returned.
    init(parameters: [(String, String)]) throws(EmulatorRequestError) {
        var canonical: [String] = []
        func list(_ value: String) -> Set<String> { Set(value.split(separator: ",").map(String.init)) }
        func time(_ name: String, _ value: String) throws(EmulatorRequestError) -> RFC3339Timestamp {
            guard let time = RFC3339Timestamp(value) else {
                throw EmulatorRequestError(status: 400, code: 4000010, title: "Validation Error", detail: "\(name): not a valid datetime")
            }
            return time
        }
        for (name, value) in parameters {
            switch name {
            case "ids": ids = list(value)
            case "siteIds": siteIDs = list(value)
            case "accountIds": accountIDs = list(value)
            case "createdAt__gt": createdAtRange.lowerBound = try time(name, value); createdAtRange.lowerInclusive = false
            case "createdAt__gte": createdAtRange.lowerBound = try time(name, value); createdAtRange.lowerInclusive = true
            case "createdAt__lt": createdAtRange.upperBound = try time(name, value); createdAtRange.upperInclusive = false
            case "createdAt__lte": createdAtRange.upperBound = try time(name, value); createdAtRange.upperInclusive = true
            case "updatedAt__gt": updatedAtRange.lowerBound = try time(name, value); updatedAtRange.lowerInclusive = false
            case "updatedAt__gte": updatedAtRange.lowerBound = try time(name, value); updatedAtRange.lowerInclusive = true
            case "updatedAt__lt": updatedAtRange.upperBound = try time(name, value); updatedAtRange.upperInclusive = false
            case "updatedAt__lte": updatedAtRange.upperBound = try time(name, value); updatedAtRange.upperInclusive = true
            case "sortBy":
                guard let field = SortField(rawValue: value) else {
                    throw EmulatorRequestError(status: 400, code: 4000010, title: "Validation Error", detail: "sortBy: unsupported value \(value)")
                }
                sortField = field
            case "sortOrder":
                guard value == "asc" || value == "desc" else {
                    throw EmulatorRequestError(status: 400, code: 4000010, title: "Validation Error", detail: "sortOrder: must be asc or desc")
                }
                descending = value == "desc"
            case "cursor", "limit", "skipCount", "countOnly", "skip": continue
            default: break
            }
            canonical.append("\(name)=\(value)")
        }
        fingerprint = canonical.sorted().joined(separator: "&")
    }

    func sortValue(_ dataset: ThreatDataset, _ index: Int, _ updatedAt: (Int) -> RFC3339Timestamp) -> Int64 {
        switch sortField {
        case .createdAt: return dataset.createdAt(at: index).microseconds
        case .updatedAt: return updatedAt(index).microseconds
        case .id: return Int64(index)
        }
    }

    /// The selected threats in order, as (sort value, index); `updatedAt` gives a threat's current update time.
    func select(from dataset: ThreatDataset, updatedAt: (Int) -> RFC3339Timestamp) -> [(value: Int64, index: Int)] {
        var selected: [(value: Int64, index: Int)] = []
        let candidates: [Int] =
            ids.map { ids in ids.compactMap { dataset.index(ofID: $0) }.sorted() } ?? Array(0..<dataset.count)
        for index in candidates {
            if let siteIDs, !siteIDs.contains(dataset.siteID(at: index)) { continue }
            if let accountIDs, !accountIDs.contains(dataset.accountID(at: index)) { continue }
            if createdAtRange.lowerBound != nil || createdAtRange.upperBound != nil,
                !createdAtRange.contains(dataset.createdAt(at: index))
            {
                continue
            }
            if updatedAtRange.lowerBound != nil || updatedAtRange.upperBound != nil,
                !updatedAtRange.contains(updatedAt(index))
            {
                continue
            }
            selected.append((sortValue(dataset, index, updatedAt), index))
        }
        if sortField != .id || descending {
            selected.sort { lhs, rhs in
                let ascending = lhs.value != rhs.value ? lhs.value < rhs.value : lhs.index < rhs.index
                return descending ? !ascending : ascending
            }
        }
        return selected
    }

    /// The position in `selected` just after the threat the cursor names.
    func position(after cursor: EmulatorCursor, in selected: [(value: Int64, index: Int)]) -> Int {
        var low = 0
        var high = selected.count
        while low < high {
            let middle = (low + high) / 2
            let element = selected[middle]
            let isAfter: Bool
            if element.value != cursor.sortValue {
                isAfter = descending ? element.value < cursor.sortValue : element.value > cursor.sortValue
            } else {
                isAfter = descending ? element.index < cursor.index : element.index > cursor.index
            }
            if isAfter { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
