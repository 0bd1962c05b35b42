"""Demand forecasting: calendar effects, forecasters with the statsforecast shape, backtesting.

``flowplan.demand.forecast`` holds the models (flowplan's default model for hospital demand and
wrappers around the statsforecast baselines), ``flowplan.demand.calendar`` the England & Wales
calendar, and ``flowplan.demand.backtest`` rolling-origin evaluation.
"""
