"""Settings of the evaluation service (environment variables prefixed EVALUATION_, plus the shared ones)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from emm_common.settings import ServiceSettings
from emm_evaluation.domain.certification import CertificationRules


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVALUATION_", extra="ignore")

    service_name: str = "evaluation"
    http_port: int = 8002
    # Its projections are rebuilt and switched over (entrypoints/switch_over.py): read the pointer at start.
    follow_live_database: bool = True

    # Certification rules (domain/certification.py, where their defaults are set): the worker decides
    # with them, and reports count a post-test as passed at the same mark.
    certification_min_attendance_ratio: float = CertificationRules.min_attendance_ratio
    certification_evaluation_required: bool = CertificationRules.evaluation_required
    certification_min_peer_rubric_average: float | None = Field(
        CertificationRules.min_peer_rubric_average,
        description="Best peer-rubric average needed on a practice delivery; empty drops the rule.")
    certification_post_test_pass_mark: float = CertificationRules.post_test_pass_mark

    respondent_key: SecretStr = Field(
        SecretStr("local-respondent-key"),
        description="Key of respondent seals and pseudonyms: an anonymous evaluation's event carries the "
                    "participant id sealed with it, so the worker (which has the key) can count it for "
                    "certification; see docs/anonymous-evaluations.md. Losing it loses the anonymous answers' "
                    "authors on a rebuild.")
    publish_decisions: bool = Field(
        True, description="False for a rebuild worker: it decides no certification itself and takes them all "
                          "from the trainer.certified events of the first run on emm.trainers.")

    def certification_rules(self) -> CertificationRules:
        return CertificationRules(
            min_attendance_ratio=self.certification_min_attendance_ratio,
            evaluation_required=self.certification_evaluation_required,
            min_peer_rubric_average=self.certification_min_peer_rubric_average,
            post_test_pass_mark=self.certification_post_test_pass_mark)
