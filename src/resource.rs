//! Task `Resource` strings: Lambda and activity ARNs, optimized service
//! integrations and AWS SDK integrations with their integration pattern.

/// How a Task waits for its work (the suffix of an integration ARN).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IntegrationPattern {
    /// No suffix: call the API and take its answer.
    #[default]
    RequestResponse,
    /// `.sync`: run a job and wait for it.
    Sync,
    /// `.sync:2`: as `.sync`, with the newer result shape.
    Sync2,
    /// `.waitForTaskToken`: wait for a callback with the task token.
    WaitForTaskToken,
}

impl IntegrationPattern {
    /// The ARN suffix (`""`, `".sync"`, `".sync:2"`, `".waitForTaskToken"`).
    pub fn suffix(self) -> &'static str {
        match self {
            IntegrationPattern::RequestResponse => "",
            IntegrationPattern::Sync => ".sync",
            IntegrationPattern::Sync2 => ".sync:2",
            IntegrationPattern::WaitForTaskToken => ".waitForTaskToken",
        }
    }
}

/// What a Task `Resource` names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A Lambda function ARN (the legacy direct form):
    /// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
    Lambda {
        /// The function name.
        function: String,
    },
    /// An activity ARN: `arn:aws:states:<region>:<account>:activity:<name>`.
    Activity {
        /// The activity name.
        name: String,
    },
    /// An optimized integration: `arn:aws:states:::<service>:<action>[.pattern]`.
    Service {
        /// e.g. `lambda`, `sqs`, `dynamodb`, `states`.
        service: String,
        /// e.g. `invoke`, `sendMessage`, `startExecution`.
        action: String,
        /// The integration pattern.
        pattern: IntegrationPattern,
    },
    /// An AWS SDK integration: `arn:aws:states:::aws-sdk:<service>:<action>[.pattern]`.
    AwsSdk {
        /// e.g. `s3`, `dynamodb`.
        service: String,
        /// e.g. `getObject`.
        action: String,
        /// The integration pattern.
        pattern: IntegrationPattern,
    },
    /// Any other URI: passed to the executor as written.
    Other,
}

/// A parsed Task `Resource`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Resource {
    /// The ARN / URI as written.
    pub arn: String,
    /// What it names.
    pub kind: ResourceKind,
}

impl Resource {
    /// Reads a `Resource` string. Never fails: a URI that is none of the
    /// known forms is [`ResourceKind::Other`], passed to the executor as written.
    ///
    /// ```
    /// use stepfn::definition::{IntegrationPattern, Resource, ResourceKind};
    /// let r = Resource::parse("arn:aws:states:::sqs:sendMessage.waitForTaskToken");
    /// assert_eq!(
    ///     r.kind,
    ///     ResourceKind::Service {
    ///         service: "sqs".into(),
    ///         action: "sendMessage".into(),
    ///         pattern: IntegrationPattern::WaitForTaskToken,
    ///     }
    /// );
    /// ```
    pub fn parse(arn: &str) -> Resource {
        Resource {
            arn: arn.to_owned(),
            kind: kind_of(arn),
        }
    }

    /// The integration pattern (`RequestResponse` for Lambda ARNs,
    /// activities and other URIs).
    pub fn pattern(&self) -> IntegrationPattern {
        match &self.kind {
            ResourceKind::Service { pattern, .. } | ResourceKind::AwsSdk { pattern, .. } => {
                *pattern
            }
            _ => IntegrationPattern::RequestResponse,
        }
    }
}

impl Resource {
    /// False for a service integration AWS's validation refuses: an
    /// optimized integration whose service, action or integration pattern
    /// AWS does not offer (e.g. `arn:aws:states:::dynamodb:query`, refused
    /// by AWS), and an AWS SDK integration with `.sync` (AWS SDK
    /// integrations have no Run a Job pattern). Lambda function ARNs,
    /// activities, AWS SDK services and other URIs are not checked.
    pub(crate) fn recognized(&self) -> bool {
        match &self.kind {
            ResourceKind::Service {
                service,
                action,
                pattern,
            } => OPTIMIZED
                .iter()
                .find(|(name, _)| name == service)
                .and_then(|(_, actions)| {
                    // the action's case is not checked: AWS's rule is unknown
                    actions
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(action))
                })
                .is_some_and(|(_, patterns)| patterns.contains(pattern)),
            ResourceKind::AwsSdk { pattern, .. } => !matches!(
                pattern,
                IntegrationPattern::Sync | IntegrationPattern::Sync2
            ),
            _ => true,
        }
    }
}

use IntegrationPattern::{
    RequestResponse as Rr, Sync as Job, Sync2 as Job2, WaitForTaskToken as Cb,
};

/// Request-response and `.sync`.
const RJ: &[IntegrationPattern] = &[Rr, Job];
/// Request-response and `.waitForTaskToken`.
const RC: &[IntegrationPattern] = &[Rr, Cb];
/// The three patterns.
const RJC: &[IntegrationPattern] = &[Rr, Job, Cb];
/// Request-response only.
const R: &[IntegrationPattern] = &[Rr];

/// An optimized service: its actions, each with the integration patterns
/// AWS offers for it.
type Service = (
    &'static str,
    &'static [(&'static str, &'static [IntegrationPattern])],
);

/// The optimized integrations of Standard workflows, from AWS's pages
/// "Optimized integrations for Step Functions" (the patterns per service)
/// and each service's page (its actions; per-action patterns where the
/// page gives them: Athena, CodeBuild, EMR). Express workflows are further
/// limited to request-response, checked apart.
const OPTIMIZED: &[Service] = &[
    ("apigateway", &[("invoke", RC)]),
    (
        "athena",
        &[
            ("startQueryExecution", RJ),
            ("stopQueryExecution", R),
            ("getQueryExecution", R),
            ("getQueryResults", R),
        ],
    ),
    ("batch", &[("submitJob", RJ)]),
    (
        "bedrock",
        &[("invokeModel", RJC), ("createModelCustomizationJob", RJC)],
    ),
    (
        "codebuild",
        &[
            ("startBuild", RJ),
            ("stopBuild", R),
            ("batchDeleteBuilds", R),
            ("batchGetReports", R),
            ("startBuildBatch", RJ),
            ("stopBuildBatch", R),
            ("retryBuildBatch", RJ),
            ("deleteBuildBatch", R),
        ],
    ),
    ("databrew", &[("startJobRun", RJ)]),
    (
        "dynamodb",
        &[
            ("getItem", R),
            ("putItem", R),
            ("updateItem", R),
            ("deleteItem", R),
        ],
    ),
    ("ecs", &[("runTask", RJC)]),
    (
        "eks",
        &[
            ("createCluster", RJC),
            ("deleteCluster", RJC),
            ("createFargateProfile", RJC),
            ("deleteFargateProfile", RJC),
            ("createNodegroup", RJC),
            ("deleteNodegroup", RJC),
            ("runJob", RJC),
            ("call", RJC),
        ],
    ),
    (
        "elasticmapreduce",
        &[
            ("createCluster", RJ),
            ("terminateCluster", RJ),
            ("addStep", RJ),
            ("cancelStep", R),
            ("setClusterTerminationProtection", R),
            ("modifyInstanceFleetByName", R),
            ("modifyInstanceGroupByName", R),
        ],
    ),
    (
        "emr-containers",
        &[
            ("createVirtualCluster", RJ),
            ("deleteVirtualCluster", RJ),
            ("startJobRun", RJ),
        ],
    ),
    (
        "emr-serverless",
        &[
            ("createApplication", RJ),
            ("startApplication", RJ),
            ("stopApplication", RJ),
            ("deleteApplication", RJ),
            ("startJobRun", RJ),
            ("cancelJobRun", RJ),
        ],
    ),
    ("events", &[("putEvents", RC)]),
    ("glue", &[("startJobRun", RJ)]),
    ("http", &[("invoke", R)]),
    ("lambda", &[("invoke", RC)]),
    ("mediaconvert", &[("createJob", RJ)]),
    (
        "sagemaker",
        &[
            ("createEndpoint", RJ),
            ("createEndpointConfig", RJ),
            ("createHyperParameterTuningJob", RJ),
            ("createLabelingJob", RJ),
            ("createModel", RJ),
            ("createProcessingJob", RJ),
            ("createTrainingJob", RJ),
            ("createTransformJob", RJ),
            ("updateEndpoint", RJ),
        ],
    ),
    ("sns", &[("publish", RC)]),
    ("sqs", &[("sendMessage", RC)]),
    ("states", &[("startExecution", &[Rr, Job, Job2, Cb])]),
];

fn kind_of(arn: &str) -> ResourceKind {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    // arn : partition : service : region : account : rest
    if parts.len() < 6 || parts[0] != "arn" {
        return ResourceKind::Other;
    }
    let (service, region, account, rest) = (parts[2], parts[3], parts[4], parts[5]);
    match service {
        "lambda" => match rest.split_once(':') {
            Some(("function", tail)) if !tail.is_empty() => ResourceKind::Lambda {
                function: tail.split(':').next().unwrap_or(tail).to_owned(),
            },
            _ => ResourceKind::Other,
        },
        "states" if region.is_empty() && account.is_empty() => {
            // `service:action`, or `aws-sdk:service:action`.
            let (sdk, rest) = match rest.strip_prefix("aws-sdk:") {
                Some(rest) => (true, rest),
                None => (false, rest),
            };
            let Some((service, action)) = rest.split_once(':') else {
                return ResourceKind::Other;
            };
            let (action, pattern) = split_pattern(action);
            if service.is_empty() || action.is_empty() {
                return ResourceKind::Other;
            }
            let (service, action) = (service.to_owned(), action.to_owned());
            if sdk {
                ResourceKind::AwsSdk {
                    service,
                    action,
                    pattern,
                }
            } else {
                ResourceKind::Service {
                    service,
                    action,
                    pattern,
                }
            }
        }
        "states" => match rest.split_once(':') {
            Some(("activity", name)) if !name.is_empty() => ResourceKind::Activity {
                name: name.to_owned(),
            },
            _ => ResourceKind::Other,
        },
        _ => ResourceKind::Other,
    }
}

fn split_pattern(action: &str) -> (&str, IntegrationPattern) {
    for pattern in [
        IntegrationPattern::Sync2,
        IntegrationPattern::Sync,
        IntegrationPattern::WaitForTaskToken,
    ] {
        if let Some(stripped) = action.strip_suffix(pattern.suffix()) {
            return (stripped, pattern);
        }
    }
    (action, IntegrationPattern::RequestResponse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(arn: &str) -> ResourceKind {
        Resource::parse(arn).kind
    }

    fn service(service: &str, action: &str, pattern: IntegrationPattern) -> ResourceKind {
        ResourceKind::Service {
            service: service.into(),
            action: action.into(),
            pattern,
        }
    }

    #[test]
    fn lambda_arns() {
        let f = |name: &str| ResourceKind::Lambda {
            function: name.into(),
        };
        assert_eq!(
            kind("arn:aws:lambda:us-east-1:123456789012:function:Hello"),
            f("Hello")
        );
        assert_eq!(
            kind("arn:aws:lambda:us-east-1:123456789012:function:Hello:$LATEST"),
            f("Hello")
        );
        assert_eq!(
            kind("arn:aws:lambda:us-east-1:123456789012:layer:x"),
            ResourceKind::Other
        );
    }

    #[test]
    fn activity_arns() {
        assert_eq!(
            kind("arn:aws:states:us-east-1:111111111111:activity:work"),
            ResourceKind::Activity {
                name: "work".into()
            }
        );
    }

    #[test]
    fn service_integrations_and_patterns() {
        use IntegrationPattern::*;
        assert_eq!(
            kind("arn:aws:states:::lambda:invoke"),
            service("lambda", "invoke", RequestResponse)
        );
        assert_eq!(
            kind("arn:aws:states:::ecs:runTask.sync"),
            service("ecs", "runTask", Sync)
        );
        assert_eq!(
            kind("arn:aws:states:::states:startExecution.sync:2"),
            service("states", "startExecution", Sync2)
        );
        assert_eq!(
            kind("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            service("sqs", "sendMessage", WaitForTaskToken)
        );
        assert_eq!(
            kind("arn:aws:states:::aws-sdk:s3:getObject"),
            ResourceKind::AwsSdk {
                service: "s3".into(),
                action: "getObject".into(),
                pattern: RequestResponse
            }
        );
        assert_eq!(
            Resource::parse("arn:aws:states:::ecs:runTask.sync").pattern(),
            Sync
        );
    }

    #[test]
    fn other_uris() {
        assert_eq!(kind("my-handler"), ResourceKind::Other);
        assert_eq!(kind("arn:aws:states:::nothing"), ResourceKind::Other);
        assert_eq!(kind("arn:aws:states:::aws-sdk:s3"), ResourceKind::Other);
        assert_eq!(
            kind("arn:aws:states:::aws-sdk::getObject"),
            ResourceKind::Other
        );
        assert_eq!(kind("arn:aws:sns:us-east-1:1:topic"), ResourceKind::Other);
    }
}
