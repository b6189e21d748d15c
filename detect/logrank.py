"""Negative mean log-rank of the tokens (Mitchell et al. 2023's log-rank baseline)."""
from . import features
from .lm_statistic import LMStatisticDetector
from .registry import register


@register("logrank")
class LogRank(LMStatisticDetector):
    statistic = staticmethod(features.logrank)
