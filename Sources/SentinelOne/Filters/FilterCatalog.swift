/// The query parameters an endpoint documents, with their types: the single source of truth for what a
/// `--filter` may name.
public struct FilterCatalog: Sendable {
    /// A parameter's documented type, which decides how its value is checked and written.
    public enum ParameterType: String, Sendable {
        /// A list: given comma-separated, written comma-joined.
        case array
        /// `true` or `false`.
        case boolean
        /// An integer.
        case number
        /// Free text (timestamps are checked as RFC 3339).
        case string
    }

    /// Which endpoint the catalogue belongs to, for messages.
    public let endpoint: String
    /// Every documented parameter.
    public let parameters: [String: ParameterType]
    /// Parameters threatpipe sets itself, with the option to use instead.
    public let managed: [String: String]

    /// `GET /web/api/v2.1/threats`: the parameters documented in get-threats.md.
    public static let threats = FilterCatalog(
        endpoint: "GET /web/api/v2.1/threats",
        parameters: threatParameters,
        managed: [
            "cursor": "threatpipe follows pagination.nextCursor itself",
            "limit": "use --page-size",
            "skip": "threatpipe pages with cursors (skip stops at 1000)",
            "skipCount": "threatpipe sets it",
            "countOnly": "an export needs the threats, not their count",
        ]
    )

    /// `GET /web/api/v2.1/threats/{id}/explore/events`: the parameters documented in get-threat-events.md.
    public static let exploreEvents = FilterCatalog(
        endpoint: "GET /web/api/v2.1/threats/{id}/explore/events",
        parameters: [
            "eventId": .string,
            "sortBy": .string,
            "limit": .number,
            "skip": .number,
            "sortOrder": .string,
            "skipCount": .boolean,
            "countOnly": .boolean,
            "cursor": .string,
            "eventSubTypes": .array,
            "processName__like": .string,
            "eventTypes": .array,
        ],
        managed: [
            "cursor": "threatpipe follows pagination.nextCursor itself",
            "limit": "use --events-page-size",
            "skip": "threatpipe pages with cursors",
            "skipCount": "threatpipe sets it",
            "countOnly": "an export needs the events, not their count",
        ]
    )

    private static let threatParameters: [String: ParameterType] = [
        "accountIds": .array,
        "agentIds": .array,
        "agentIsActive": .boolean,
        "agentMachineTypes": .array,
        "agentMachineTypesNin": .array,
        "agentVersions": .array,
        "agentVersionsNin": .array,
        "analystVerdicts": .array,
        "analystVerdictsNin": .array,
        "awsRole__contains": .array,
        "awsSecurityGroups__contains": .array,
        "awsSubnetIds__contains": .array,
        "azureResourceGroup__contains": .array,
        "classifications": .array,
        "classificationsNin": .array,
        "classificationSources": .array,
        "classificationSourcesNin": .array,
        "cloudAccount__contains": .array,
        "cloudImage__contains": .array,
        "cloudInstanceId__contains": .array,
        "cloudInstanceSize__contains": .array,
        "cloudLocation__contains": .array,
        "cloudNetwork__contains": .array,
        "cloudProvider": .array,
        "cloudProviderNin": .array,
        "collectionIds": .array,
        "commandLineArguments__contains": .array,
        "computerName__contains": .array,
        "confidenceLevels": .array,
        "confidenceLevelsNin": .array,
        "containerImageName__contains": .array,
        "containerLabels__contains": .array,
        "containerName__contains": .array,
        "contentHash__contains": .array,
        "contentHashes": .array,
        "countOnly": .boolean,
        "countsFor": .string,
        "createdAt__gt": .string,
        "createdAt__gte": .string,
        "createdAt__lt": .string,
        "createdAt__lte": .string,
        "cursor": .string,
        "detectionAgentDomain__contains": .array,
        "detectionAgentVersion__contains": .array,
        "detectionEngines": .array,
        "detectionEnginesNin": .array,
        "displayName": .string,
        "engines": .array,
        "enginesNin": .array,
        "externalTicketExists": .boolean,
        "externalTicketId__contains": .array,
        "externalTicketIds": .array,
        "failedActions": .boolean,
        "filePath__contains": .array,
        "gcpServiceAccount__contains": .array,
        "groupIds": .array,
        "ids": .array,
        "incidentStatuses": .array,
        "incidentStatusesNin": .array,
        "initiatedBy": .array,
        "initiatedByNin": .array,
        "initiatedByUsername__contains": .array,
        "k8sClusterName__contains": .array,
        "k8sControllerLabels__contains": .array,
        "k8sControllerName__contains": .array,
        "k8sNamespaceLabels__contains": .array,
        "k8sNamespaceName__contains": .array,
        "k8sNodeLabels__contains": .array,
        "k8sNodeName__contains": .array,
        "k8sPodLabels__contains": .array,
        "k8sPodName__contains": .array,
        "limit": .number,
        "mitigatedPreemptively": .boolean,
        "mitigationStatuses": .array,
        "mitigationStatusesNin": .array,
        "noteExists": .boolean,
        "originatedProcess__contains": .array,
        "osArchs": .array,
        "osNames": .array,
        "osNamesNin": .array,
        "osTypes": .array,
        "osTypesNin": .array,
        "pendingActions": .boolean,
        "publisherName__contains": .array,
        "query": .string,
        "realtimeAgentVersion__contains": .array,
        "rebootRequired": .boolean,
        "resolved": .boolean,
        "siteIds": .array,
        "skip": .number,
        "skipCount": .boolean,
        "sortBy": .string,
        "sortOrder": .string,
        "storyline__contains": .array,
        "storylines": .array,
        "tenant": .boolean,
        "threatDetails__contains": .array,
        "updatedAt__gt": .string,
        "updatedAt__gte": .string,
        "updatedAt__lt": .string,
        "updatedAt__lte": .string,
        "uuid__contains": .array,
    ]
}
