"""MinMaxQuantization: quantizer placement and settings (setup), ranges (quantizer_params), the algorithm."""
